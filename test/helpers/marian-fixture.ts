// The tiny random Marian of scripts/reference/make_marian_generate_fixtures.py, loaded in-thread
// for the Marian forward and generate tests.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWeightIndex } from '../../src/main/io/safetensors';
import { readMarianConfig } from '../../src/main/models/marian/config';
import { MarianModel } from '../../src/main/models/marian/model';
import { checkMarianWeights } from '../../src/main/models/marian/weights';

export const MARIAN_FIXTURES = fileURLToPath(new URL('../fixtures/marian/', import.meta.url));
export const MARIAN_MODEL_DIR = join(MARIAN_FIXTURES, 'generate-model');
export const MARIAN_OPUS_LAYOUT_DIR = join(MARIAN_FIXTURES, 'generate-model-opus-layout');

export async function loadMarianFixture(dir = MARIAN_MODEL_DIR): Promise<MarianModel> {
  const { config } = readMarianConfig(dir);
  return MarianModel.load(config, checkMarianWeights(config, readWeightIndex(dir), dir), { intraOpThreads: 1 });
}
