import { useEffect } from 'react';
import type { SaeInfo } from '../../../../shared/dto';
import { api } from '../../api';
import { InspectFolderForm, useFolderInspect } from '../../components/InspectFolder';
import { useStore } from '../../state/store';
import { chosenSaes, wizard } from '../../state/wizard';
import { defaultChoice, fitWarnings, groupByLayer, unplaced } from './choose';
import { FidelityCheck } from './FidelityCheck';

/** `source` shown relative to the inspected folder (Gemma Scope names every file params.npz). */
function relative(source: string, folder: string): string {
  const base = folder.replace(/[\\/]+$/, '');
  return source.startsWith(base + '/') || source.startsWith(base + '\\') ? source.slice(base.length + 1) : source;
}

export function SaesStep() {
  const { saesPath, saes, saeChoice, model } = useStore(wizard, (s) => s);
  const folder = useFolderInspect(
    saesPath,
    (path) => api.sae.inspect({ path }),
    (found, path) => {
      if (found.length === 0) return { code: 'WEIGHTS_NOT_FOUND', message: `${path}: no SAE found` };
      const fresh = defaultChoice(found);
      wizard.set((s) => {
        if (s.saesPath !== path) return { saesPath: path, saes: found, saeChoice: fresh };
        // Re-reading the same folder keeps the picks (and the layers left out) that still exist.
        const kept: Record<number, string | null> = {};
        for (const [layer, pick] of Object.entries(fresh)) {
          const previous = s.saeChoice[Number(layer)];
          kept[Number(layer)] = previous === null ? null : previous && found.some((f) => f.source === previous) ? previous : pick;
        }
        return { saes: found, saeChoice: kept };
      });
    },
  );

  useEffect(() => {
    if (saesPath && saes.length === 0) void folder.inspect(saesPath);
  }, []); // once per visit

  const groups = groupByLayer(saes);
  const orphans = unplaced(saes);
  const chosen = chosenSaes({ saeChoice });
  const setPick = (layer: number, source: string | null) => wizard.set((s) => ({ saeChoice: { ...s.saeChoice, [layer]: source } }));

  return (
    <section>
      <h2>SAEs</h2>
      <p className="hint">
        A folder of sparse autoencoders for the model's residual stream: Gemma Scope (<code>params.npz</code> under{' '}
        <code>layer_L/width_W/average_l0_N</code>), SAELens folders (<code>cfg.json</code> + <code>sae_weights.safetensors</code>) or
        LinguaScope's own <code>*.safetensors</code>. One SAE is used per layer; where a layer has several, the one whose average L0 is
        nearest 100 is picked unless you choose another.
      </p>
      <InspectFolderForm
        folder={folder}
        className="sae-folder"
        label="SAE folder:"
        name="sae path"
        placeholder="a folder of SAEs (or one SAE)"
        dialogTitle="Choose a folder of SAEs"
        reading="Reading the SAE headers…"
        kept={
          saes.length > 0 && (
            <p className="hint" data-testid="kept-saes">
              Still using the SAEs of <code>{saesPath}</code>
            </p>
          )
        }
      />
      {!model && saes.length > 0 && (
        <p className="hint">No model chosen yet: the layers cannot be checked against it (the run checks every SAE).</p>
      )}
      {saes.length === 0 && !folder.busy && <p className="hint">No SAEs chosen yet: type their folder and press Inspect, or Browse….</p>}
      {groups.length > 0 && (
        <>
          <p data-testid="sae-summary">
            <strong>{chosen.length}</strong> of {groups.length} layers chosen from <code>{saesPath}</code>
            {model && <> for {model.architecture} ({model.layers} layers, d_model {model.dModel})</>}.
          </p>
          <table className="saes" aria-label="SAEs per layer">
            <thead>
              <tr>
                <th>Use</th>
                <th>Layer</th>
                <th>SAE</th>
                <th>Hook</th>
                <th>Format</th>
                <th>Architecture</th>
                <th>d_sae</th>
                <th>Average L0</th>
                <th>Fingerprint</th>
              </tr>
            </thead>
            <tbody>
              {groups.flatMap((g) =>
                g.saes.map((s, i) => (
                  <SaeRow
                    key={s.source}
                    sae={s}
                    first={i === 0}
                    rows={g.saes.length}
                    used={saeChoice[g.layer] != null}
                    picked={saeChoice[g.layer] === s.source}
                    folder={saesPath}
                    warnings={fitWarnings(s, model)}
                    onUse={(use) => setPick(g.layer, use ? (g.saes.find((x) => x.source === saeChoice[g.layer]) ?? s).source : null)}
                    onPick={() => setPick(g.layer, s.source)}
                  />
                )),
              )}
            </tbody>
          </table>
          <FitWarnings saes={saes.filter((s) => chosen.includes(s.source))} />
          {chosen.length > 0 && <FidelityCheck />}
        </>
      )}
      {orphans.length > 0 && (
        <div className="warning" role="alert" data-testid="unplaced-saes">
          Not usable, no layer recorded (no <code>hook_name</code> and no <code>layer_L</code> in the path):
          <ul>
            {orphans.map((s) => (
              <li key={s.source}>
                <code>{relative(s.source, saesPath)}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function SaeRow(props: {
  sae: SaeInfo;
  first: boolean;
  rows: number;
  used: boolean;
  picked: boolean;
  folder: string;
  warnings: string[];
  onUse(use: boolean): void;
  onPick(): void;
}) {
  const { sae, first, rows, used, picked, folder, warnings } = props;
  const name = relative(sae.source, folder);
  return (
    <tr data-layer={sae.layer} data-source={sae.source} data-picked={picked && used} className={warnings.length ? 'misfit' : undefined}>
      {first && (
        <>
          <td rowSpan={rows}>
            <input type="checkbox" aria-label={`use layer ${sae.layer}`} checked={used} onChange={(e) => props.onUse(e.target.checked)} />
          </td>
          <td rowSpan={rows}>{sae.layer}</td>
        </>
      )}
      <td>
        <label>
          <input
            type="radio"
            name={`sae-layer-${sae.layer}`}
            aria-label={`layer ${sae.layer}: ${name}`}
            checked={picked}
            disabled={!used}
            onChange={props.onPick}
          />{' '}
          <code>{name}</code>
        </label>
        {warnings.map((w) => (
          <div key={w} className="misfit-note">
            {w}
          </div>
        ))}
      </td>
      <td>
        <code>{sae.hook || '—'}</code>
      </td>
      <td>{sae.format}</td>
      <td>{sae.architecture}</td>
      <td className="num">{sae.dSae.toLocaleString()}</td>
      <td className="num">{sae.averageL0 === null ? 'unknown' : sae.averageL0.toLocaleString(undefined, { maximumFractionDigits: 2 })}</td>
      <td>
        <code title={sae.fingerprint}>{sae.fingerprint.slice(0, 12)}</code>
      </td>
    </tr>
  );
}

function FitWarnings({ saes }: { saes: SaeInfo[] }) {
  const model = useStore(wizard, (s) => s.model);
  const bad = saes.map((s) => ({ s, w: fitWarnings(s, model) })).filter((x) => x.w.length > 0);
  if (bad.length === 0) return null;
  return (
    <div className="warning" role="alert" data-testid="sae-fit-warning">
      {bad.length === 1 ? 'One chosen SAE does not fit' : `${bad.length} chosen SAEs do not fit`} the model; the run will refuse them:
      <ul>
        {bad.map(({ s, w }) => (
          <li key={s.source}>
            layer {s.layer}: {w.join('; ')}
          </li>
        ))}
      </ul>
    </div>
  );
}
