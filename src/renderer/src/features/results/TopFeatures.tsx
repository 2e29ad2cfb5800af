// The most disparate features and their drill-down: the phrases where English activates a feature
// most, every language's value and text, and on demand the feature's activation on each token.
import { useState } from 'react';
import type { DisparitySummary, TokenActivations, TopFeature } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import { api, errorMessage } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { exportCsv } from '../../components/export';
import { focusOnMount } from '../../components/focus';
import { num, tokenGroups, tokenShade, topFeatureRows } from './data';
import { SortHeader, useSorted } from './SortHeader';
import { featureValues, segmentScale } from './token-scale';

type FeatureColumn = 'layer' | 'feature' | 'en' | 'medium_low' | 'difference';

const featureKey = (f: Pick<TopFeature, 'layer' | 'feature'>) => `${f.layer}:${f.feature}`;

export function TopFeatures({ summary }: { summary: DisparitySummary }) {
  const [layer, setLayer] = useState<'all' | number>('all');
  const [open, setOpen] = useState<string | null>(null);
  const table = useSorted<TopFeature, FeatureColumn>(
    summary.top_features.filter((f) => layer === 'all' || f.layer === layer),
    (f, key) => f[key],
  );
  if (summary.top_features.length === 0) {
    return (
      <p className="hint" data-testid="no-top-features">
        No top features: they compare English with the medium/low-resource languages, and none was in this run.
      </p>
    );
  }
  return (
    <div className="top-features">
      <div className="toolbar">
        <label>
          Layer:{' '}
          <select aria-label="top features layer" value={String(layer)} onChange={(e) => setLayer(e.target.value === 'all' ? 'all' : Number(e.target.value))}>
            <option value="all">all</option>
            {summary.layers.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => exportCsv(topFeatureRows(summary), ['layer', 'feature', 'en', 'medium_low', 'difference'], 'top_features')}>
          CSV
        </button>
      </div>
      <p className="hint" data-testid="top-features-exact">
        Every value is exact (float32 as extracted), and so is the ranking: every feature active on some English phrase was compared.
      </p>
      <table className="top-features" aria-label="top disparate features">
        <thead>
          <tr>
            <SortHeader column="layer" numeric={false} sort={table.sort} onSort={table.setSort}>Layer</SortHeader>
            <SortHeader column="feature" numeric={false} sort={table.sort} onSort={table.setSort}>Feature</SortHeader>
            <SortHeader column="en" sort={table.sort} onSort={table.setSort}>en</SortHeader>
            <SortHeader column="medium_low" sort={table.sort} onSort={table.setSort}>medium/low</SortHeader>
            <SortHeader column="difference" sort={table.sort} onSort={table.setSort}>Difference</SortHeader>
          </tr>
        </thead>
        <tbody>
          {table.sorted.flatMap((f) => {
            const key = featureKey(f);
            const row = (
              <tr key={key} data-feature={f.feature} data-layer={f.layer} aria-selected={open === key}>
                <td>{f.layer}</td>
                <td>
                  <button type="button" className="link" aria-expanded={open === key} onClick={() => setOpen(open === key ? null : key)}>
                    feature {f.feature}
                  </button>
                </td>
                <td className="num">{num(f.en)}</td>
                <td className="num">{num(f.medium_low)}</td>
                <td className="num">{num(f.difference)}</td>
              </tr>
            );
            // The drill-down opens right under the feature's row.
            return open === key
              ? [
                  row,
                  <tr key={`${key}-detail`} className="detail-row">
                    <td colSpan={5}>
                      <FeatureDetail summary={summary} feature={f} />
                    </td>
                  </tr>,
                ]
              : [row];
          })}
        </tbody>
      </table>
    </div>
  );
}

interface TokenState {
  loading: boolean;
  result?: TokenActivations;
  error?: { code?: string; message: string };
}

function FeatureDetail({ summary, feature }: { summary: DisparitySummary; feature: TopFeature }) {
  const [tokens, setTokens] = useState<Record<string, TokenState>>({});
  const sae = summary.saes.find((s) => s.layer === feature.layer);

  const load = async (key: string, text: string) => {
    if (!sae) return;
    setTokens((t) => ({ ...t, [key]: { loading: true } }));
    try {
      const result = await api.analysis.tokens({ model: summary.model.path, sae: sae.source, text, features: [feature.feature], top: 5 });
      setTokens((t) => ({ ...t, [key]: { loading: false, result } }));
    } catch (e) {
      setTokens((t) => ({ ...t, [key]: { loading: false, error: { code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) } } }));
    }
  };

  return (
    <div className="feature-detail" data-testid="feature-detail">
      <h4 tabIndex={-1} ref={focusOnMount}>
        Layer {feature.layer}, feature {feature.feature}: the {feature.phrases.length} segments where English activates it most
      </h4>
      <p className="hint">
        en {num(feature.en)}, medium/low-resource mean {num(feature.medium_low)}, difference {num(feature.difference)}. SAE{' '}
        <code>{sae?.source ?? 'unknown'}</code>. Token activations run the model and this SAE on the phrase.
      </p>
      {feature.phrases.map((p) => {
        const scale = segmentScale(summary.languages.map((l) => tokens[`${p.segment}|${l.code}`]?.result), feature.feature);
        const loadAll = async () => {
          for (const l of summary.languages) if (p.text[l.code] && !tokens[`${p.segment}|${l.code}`]?.result) await load(`${p.segment}|${l.code}`, p.text[l.code]);
        };
        return (
          <div key={p.segment} className="phrase" data-segment={p.segment}>
            <h5>
              Segment <code>{p.segment}</code>{' '}
              <button type="button" disabled={!sae} onClick={() => void loadAll()}>
                Token activations in every language
              </button>
            </h5>
            {scale.languages > 0 && (
              <p className="hint" data-testid="segment-scale">
                One shading scale for this segment: the darkest shade is {num(scale.max)}, feature {feature.feature}'s largest token activation over the{' '}
                {scale.languages} of {summary.languages.length} languages loaded.
              </p>
            )}
            <table className="phrase-values">
              <thead>
                <tr>
                  <th>Language</th>
                  <th>Value</th>
                  <th>Text</th>
                </tr>
              </thead>
              <tbody>
                {summary.languages.map((l) => {
                  const key = `${p.segment}|${l.code}`;
                  const state = tokens[key];
                  const text = p.text[l.code] ?? '';
                  return (
                    <tr key={l.code} data-code={l.code}>
                      <td>
                        {l.name} <code>{l.code}</code>
                      </td>
                      <td className="num">{num(p.values[l.code])}</td>
                      <td>
                        {state?.result ? <TokenSpans result={state.result} feature={feature.feature} scale={scale.max} /> : <span className="segment-text">{text}</span>}
                        <div>
                          <button type="button" disabled={!text || !sae || state?.loading} onClick={() => void load(key, text)}>
                            {state?.loading ? 'Loading tokens…' : state?.result ? 'Reload tokens' : 'Token activations'}
                          </button>
                        </div>
                        <ErrorMessage error={state?.error?.message ?? null} code={state?.error?.code} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        );
      })}
    </div>
  );
}

/** The phrase as readable characters (byte pieces merged), each shaded by the feature's largest
 * activation over its tokens on the segment's scale (`scale`: the largest over every language
 * loaded), its value written under it. */
function TokenSpans({ result, feature, scale }: { result: TokenActivations; feature: number; scale: number }) {
  const values = featureValues(result, feature);
  const groups = tokenGroups(result.tokens, values);
  const max = Math.max(0, ...values);
  const active = values.filter((v) => v > 0).length;
  return (
    <div className="token-activations" data-testid="token-activations" role="group" aria-label={`token activations of feature ${feature}`} tabIndex={-1} ref={focusOnMount}>
      <p className="tokens">
        {groups.map((g) => {
          const pieces = g.positions.map((i) => `${result.tokens[i].id}: ${num(values[i] ?? 0)}`).join(', ');
          const strongest = g.positions.flatMap((i) => result.tokens[i].top).sort((a, b) => b.value - a.value).slice(0, 5);
          return (
            <span key={g.positions[0]} className="token-cell">
              <span
                className="token"
                data-value={g.value}
                data-tokens={g.positions.length}
                style={{ backgroundColor: tokenShade(g.value, scale) }}
                title={`${g.positions.length > 1 ? `${g.positions.length} tokens` : 'token'} ${pieces} (feature ${feature})${strongest.length ? `; strongest: ${strongest.map((x) => `${x.feature} (${num(x.value, 3)})`).join(', ')}` : ''}`}
              >
                {g.text}
              </span>
              <span className="token-value" data-testid="token-value">
                {g.value > 0 ? num(g.value, 2) : '0'}
              </span>
            </span>
          );
        })}
      </p>
      <p className="hint">
        {result.tokens.length} tokens shown as {groups.length} pieces of text (a character cut into byte tokens shows its largest value), {active} tokens with
        feature {feature} active; largest here {num(max)}, shaded on the segment's scale ({num(scale)}) ({result.hook}).
      </p>
    </div>
  );
}
