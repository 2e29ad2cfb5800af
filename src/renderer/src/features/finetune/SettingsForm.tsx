// Every fine-tune setting with its one-line meaning and default; the loss formula with the chosen
// settings beside them. Values are checked by the contract's schema as they are typed.
import { DIRECTIONS, FINETUNE_DEFAULTS, LORA_MODULES, LOSS_FEATURES, LOSS_SPACES, lossFormula, NORMALISATIONS, REDUCTIONS, type FinetuneSettings } from '../../../../shared/finetune';
import { defaultAdaptLayers, defaultLossLayers, layerText, parseLayers, requestProblems } from './settings';
import { ChoiceSetting, NumberSetting, TextSetting } from '../../components/fields';

const D = FINETUNE_DEFAULTS;

/** A copy of `s` with the value at `path` (e.g. ['lora', 'rank']) replaced. */
function setIn(s: FinetuneSettings, path: readonly string[], value: unknown): FinetuneSettings {
  const copy = structuredClone(s) as unknown as Record<string, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[path.at(-1)!] = value;
  return copy as unknown as FinetuneSettings;
}

/** Why the contract refuses `settings` at `path`, or null. */
function refusal(settings: FinetuneSettings, path: readonly string[]): string | null {
  const probe = { model: '/m', saes: '/s', languages: ['en', 'xx'], outDir: '/o', settings };
  const where = `settings.${path.join('.')}`;
  const problem = requestProblems(probe).find((p) => p.startsWith(`${where}:`));
  return problem ? problem.slice(where.length + 2) : null;
}

export function SettingsForm({ settings, onChange, numLayers, saeLayers, disabled }: { settings: FinetuneSettings; onChange(s: FinetuneSettings): void; numLayers: number | null; saeLayers: number[]; disabled: boolean }) {
  const put = (path: readonly string[], value: unknown): string | null => {
    const next = setIn(settings, path, value);
    const why = refusal(next, path);
    if (!why) onChange(next);
    return why;
  };
  const num = (path: readonly string[], label: string, meaning: string, opts: { integer?: boolean; nullable?: boolean; placeholder?: string; fallback?: string } = {}) => {
    let value: unknown = settings;
    let fallback: unknown = D;
    for (const k of path) {
      value = (value as Record<string, unknown>)[k];
      fallback = (fallback as Record<string, unknown>)[k];
    }
    return (
      <NumberSetting
        label={label}
        value={value as number | null}
        integer={opts.integer}
        nullable={opts.nullable}
        placeholder={opts.placeholder}
        meaning={meaning}
        fallback={opts.fallback ?? (fallback === null ? 'off' : String(fallback))}
        disabled={disabled}
        commit={(v) => put(path, v)}
      />
    );
  };
  const adaptDefault = numLayers ? defaultAdaptLayers(numLayers) : null;
  const adapted = settings.lora.adaptLayers ?? adaptDefault;
  const lossDefault = adapted ? defaultLossLayers(adapted, saeLayers) : null;
  const layersParse = (text: string) => {
    const r = parseLayers(text);
    return 'error' in r ? r : { value: r.layers };
  };

  return (
    <div className="finetune-settings">
      <fieldset disabled={disabled}>
        <legend>Data</legend>
        {num(['data', 'pairs'], 'training pairs', 'aligned (English, target) pairs trained on at most; fewer when the corpus has fewer', { integer: true })}
        {num(['steps'], 'steps', 'optimiser steps; empty = the passes below over the training pairs', { integer: true, nullable: true, placeholder: 'passes', fallback: 'passes' })}
        {num(['data', 'passes'], 'passes', "passes over the training pairs when steps is empty (the paper's iterations)", { integer: true })}
        {num(['data', 'batchPairs'], 'batch pairs', 'pairs per optimiser step', { integer: true })}
        {num(['data', 'heldOut'], 'held-out share', 'share of the segments never trained on; gain and retention are measured on them')}
        {num(['data', 'seed'], 'seed', 'fixes the split, the batches and the adapter initialisation', { integer: true })}
      </fieldset>
      <fieldset disabled={disabled}>
        <legend>Adapter (LoRA)</legend>
        {num(['lora', 'rank'], 'rank', 'r: inner size of each B·A update', { integer: true })}
        {num(['lora', 'alpha'], 'LoRA alpha', 'scale s = alpha / r (alpha / √r with rsLoRA) of each update')}
        <div className="setting">
          <label>
            <input type="checkbox" aria-describedby="ft-rslora" checked={settings.lora.rslora} onChange={(e) => onChange(setIn(settings, ['lora', 'rslora'], e.target.checked))} /> rsLoRA
          </label>
          <span className="setting-meaning" id="ft-rslora">
            scale by alpha / √r instead of alpha / r <span className="setting-default">(default: off)</span>
          </span>
        </div>
        <div className="setting">
          <span id="ft-modules-label">adapted linears</span>{' '}
          <span role="group" aria-labelledby="ft-modules-label" className="module-choice">
            {LORA_MODULES.map((m) => (
              <label key={m}>
                <input
                  type="checkbox"
                  checked={settings.lora.modules.includes(m)}
                  disabled={settings.lora.modules.length === 1 && settings.lora.modules.includes(m)}
                  onChange={(e) => onChange(setIn(settings, ['lora', 'modules'], LORA_MODULES.filter((x) => (x === m ? e.target.checked : settings.lora.modules.includes(x)))))}
                />{' '}
                {m}
              </label>
            ))}
          </span>
          <span className="setting-meaning">
            which linear layers of each adapted block get an adapter <span className="setting-default">(default: all seven)</span>
          </span>
        </div>
        <TextSetting
          label="adapted layers"
          text={settings.lora.adaptLayers ? settings.lora.adaptLayers.join(', ') : ''}
          placeholder="default"
          meaning="decoder layers that get adapters, e.g. 0-20; empty = the default"
          fallback={adaptDefault ? `${layerText(adaptDefault)}, the paper's 21 of 26 layers as a share of this model's ${numLayers}` : "the paper's 21 of 26 layers as a share of the model's depth"}
          disabled={disabled}
          parse={layersParse}
          commit={(v) => put(['lora', 'adaptLayers'], v)}
        />
        <TextSetting
          label="loss layers"
          text={settings.lora.lossLayers ? settings.lora.lossLayers.join(', ') : ''}
          placeholder="default"
          meaning="layers whose SAE activations enter the loss; empty = the default"
          fallback={lossDefault ? `${layerText(lossDefault)}, the SAE layers within the adapted range` : 'the SAE layers within the adapted range'}
          disabled={disabled}
          parse={layersParse}
          commit={(v) => put(['lora', 'lossLayers'], v)}
        />
      </fieldset>
      <fieldset disabled={disabled}>
        <legend>Loss</legend>
        {num(['loss', 'alpha'], 'retention weight α', 'weight of the English-retention term (u − u_orig)² against the alignment term |u − v|')}
        <ChoiceSetting
          label="loss space"
          value={settings.loss.space}
          options={LOSS_SPACES.map((v) => ({ value: v, label: v }))}
          meaning="sae-codes: the SAE's JumpReLU codes (the paper); sae-preacts: before the gate, so features below threshold can be raised; residual: the residual stream"
          fallback={D.loss.space}
          disabled={disabled}
          commit={(v) => put(['loss', 'space'], v)}
        />
        <ChoiceSetting
          label="direction"
          value={settings.loss.direction}
          options={DIRECTIONS.map((v) => ({ value: v, label: v }))}
          meaning="both: English and target move towards each other (the paper); target-only: no gradient through u in |u − v|"
          fallback={D.loss.direction}
          disabled={disabled}
          commit={(v) => put(['loss', 'direction'], v)}
        />
        <ChoiceSetting
          label="token reduction"
          value={settings.loss.reduction}
          options={REDUCTIONS.map((v) => ({ value: v, label: v }))}
          meaning="how a phrase's tokens are reduced to one vector (BOS excluded), as in the analysis"
          fallback={D.loss.reduction}
          disabled={disabled}
          commit={(v) => put(['loss', 'reduction'], v)}
        />
        <ChoiceSetting
          label="normalisation"
          value={settings.loss.normalisation}
          options={NORMALISATIONS.map((v) => ({ value: v, label: v }))}
          meaning="mean or sum over the weighted features"
          fallback={D.loss.normalisation}
          disabled={disabled}
          commit={(v) => put(['loss', 'normalisation'], v)}
        />
        <ChoiceSetting
          label="loss features"
          value={settings.loss.features}
          options={LOSS_FEATURES.map((v) => ({ value: v, label: v }))}
          meaning="all features, or only those active on the frozen English phrase"
          fallback={D.loss.features}
          disabled={disabled}
          commit={(v) => put(['loss', 'features'], v)}
        />
      </fieldset>
      <fieldset disabled={disabled}>
        <legend>Optimiser (AdamW)</legend>
        {num(['optim', 'lr'], 'learning rate', 'peak learning rate after warmup, then cosine decay')}
        {num(['optim', 'warmup'], 'warmup steps', 'steps of linear warmup from 0 to the learning rate', { integer: true })}
        {num(['optim', 'minLrRatio'], 'final lr ratio', 'the cosine decays to this share of the learning rate')}
        {num(['optim', 'weightDecay'], 'weight decay', 'decoupled weight decay on the LoRA factors')}
        {num(['optim', 'clipNorm'], 'clip norm', 'global gradient-norm clipping; 0 = none')}
      </fieldset>
      <fieldset disabled={disabled}>
        <legend>Monitoring</legend>
        {num(['monitor', 'evalEvery'], 'evaluate every', 'steps between held-out evaluations (gain, retention, held-out loss)', { integer: true })}
        {num(['monitor', 'checkpointEvery'], 'checkpoint every', 'steps between checkpoints (resume starts from one)', { integer: true })}
        {num(['monitor', 'keepCheckpoints'], 'checkpoints kept', 'the most recent checkpoints kept on disk', { integer: true })}
        {num(['monitor', 'patience'], 'patience', 'stop when the held-out loss has not improved for this many evaluations; empty = off', { integer: true, nullable: true, placeholder: 'off' })}
        {num(['monitor', 'watchdog', 'threshold'], 'watchdog loss', 'stop when the loss stays above this for the watchdog steps; empty = off', { nullable: true, placeholder: 'off' })}
        {num(['monitor', 'watchdog', 'steps'], 'watchdog steps', 'steps in a row above the watchdog loss before stopping', { integer: true })}
      </fieldset>
      <aside className="loss-formula" aria-label="loss formula">
        <h4>The loss with these settings</h4>
        <pre data-testid="loss-formula">{lossFormula(settings.loss)}</pre>
      </aside>
    </div>
  );
}
