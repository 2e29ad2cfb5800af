// The folder a graph's external-data locations are relative to. onnxruntime accepts only relative
// locations that stay inside that folder once symbolic links are resolved, so the root is taken
// from the weight files' real paths, not from the folder the user named: in a Hugging Face hub
// cache every file of `models--org--name/snapshots/<sha>/` is a link to `../../blobs/<sha256>`,
// and the real files sit in `blobs/`. Each real path must be a regular file (a link to a FIFO or a
// device would block or never end inside onnxruntime).
import { closeSync, realpathSync } from 'node:fs';
import { openRegularFile, WEIGHT_CODES } from '../io/input-file';
import { commonRoot } from './weights';

/** Real paths of `files`, each checked to be a regular file; typed errors name the file. */
export function realWeightFiles(files: readonly string[]): string[] {
  return files.map((file) => {
    closeSync(openRegularFile(file, WEIGHT_CODES, 'weight file').fd);
    return realpathSync(file);
  });
}

/** The deepest real folder holding every file: the external-data root of a graph reading them. */
export function externalDataRoot(files: readonly string[]): string {
  return commonRoot(realWeightFiles(files));
}
