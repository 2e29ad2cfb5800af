import type { Tier } from './dto';

/** One colour per tier, used by the UI charts and the exported SVG/PNG alike. */
export const TIER_COLORS: Record<Tier, string> = {
  reference: '#4b5563',
  high: '#2563eb',
  // orange-700: 5.2:1 on white, so labels drawn in it are readable text (orange-600 was 3.6:1).
  'medium-low': '#c2410c',
};

export const TIER_LABELS: Record<Tier, string> = {
  reference: 'reference (en)',
  high: 'high-resource',
  'medium-low': 'medium/low-resource',
};
