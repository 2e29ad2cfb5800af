import type { Api } from '../shared/client';

declare global {
  interface Window {
    /** Present in the desktop app (exposed by the preload); absent in the browser harness. */
    api?: Api;
  }
}
export {};
