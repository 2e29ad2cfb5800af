import { useEffect, useState, type ReactNode } from 'react';
import type { Capabilities, ModelInfo, ProviderName } from '../../../../shared/dto';
import { api, errorMessage } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { InspectFolderForm, useFolderInspect } from '../../components/InspectFolder';
import { useStore } from '../../state/store';
import { wizard } from '../../state/wizard';
import { formatBytes, formatCount, memoryVerdict } from './format';

const PROVIDER_LABELS: Record<ProviderName, string> = {
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'CoreML',
  webgpu: 'WebGPU',
  cpu: 'CPU',
};

export function ModelStep() {
  const { modelPath, model } = useStore(wizard, (s) => s);
  const [caps, setCaps] = useState<Capabilities | null>(null);
  const [capsError, setCapsError] = useState<string | null>(null);
  // Only the latest inspection may change the choice; on an error (modelPath, model) stay as they were.
  const folder = useFolderInspect(
    modelPath,
    (path) => api.model.inspect({ path }),
    (info, path) => {
      wizard.set({ modelPath: info.path, model: info });
      folder.settleDraft(path, info.path);
    },
  );

  useEffect(() => {
    api.system.capabilities({}).then(setCaps, (e: unknown) => setCapsError(errorMessage(e)));
    // A folder chosen before it was inspected (the bundled demo, once it exists) is read at once.
    if (modelPath && !model) void folder.inspect(modelPath);
  }, []); // once per visit

  return (
    <section>
      <h2>Model</h2>
      <p className="hint">
        A local Hugging Face model folder: <code>config.json</code>, <code>*.safetensors</code> (sharded or not) and, if it has one,{' '}
        <code>tokenizer.json</code>. Gemma-2, Llama, Mistral and Qwen2 are supported. Only the config and the safetensors headers are
        read here; no weights are loaded.
      </p>
      <InspectFolderForm
        folder={folder}
        className="model-folder"
        label="Model folder:"
        name="model path"
        placeholder="a folder with config.json and *.safetensors"
        dialogTitle="Choose a model folder (with config.json and *.safetensors)"
        reading="Reading config.json and the safetensors headers…"
        onUserChoice={() => wizard.set({ modelChosenByUser: true })}
        kept={
          model && (
            <p className="hint" data-testid="kept-model">
              Still using the previous model: <code>{model.path}</code>
            </p>
          )
        }
      />
      {model ? <ModelDetails model={model} caps={caps} /> : !folder.busy && <p className="hint">No model chosen yet: type its folder and press Inspect, or Browse….</p>}
      <Machine caps={caps} error={capsError} />
    </section>
  );
}

function ModelDetails({ model, caps }: { model: ModelInfo; caps: Capabilities | null }) {
  const rows: [field: string, label: string, value: ReactNode][] = [
    ['architecture', 'Architecture', <><code>{model.architecture}</code> ({model.arch})</>],
    ['layers', 'Layers', model.layers],
    ['dModel', 'd_model', model.dModel.toLocaleString()],
    [
      'heads',
      'Attention heads',
      `${model.heads} query, ${model.kvHeads} key/value${model.kvHeads < model.heads ? ' (grouped-query)' : ''}`,
    ],
    ['vocab', 'Vocabulary', model.vocabSize.toLocaleString()],
    ['parameters', 'Parameters', `${formatCount(model.parameters)} (${model.parameters.toLocaleString()})`],
    ['dtype', 'Stored dtype', model.dtype],
    ['weights', 'Weights', `${formatBytes(model.weightBytes)} in ${model.files} ${model.files === 1 ? 'file' : 'files'}`],
    ['context', 'Context length', `${model.maxPositions.toLocaleString()} tokens`],
    [
      'slidingWindow',
      'Sliding-window layers',
      model.slidingWindowLayers > 0 ? `${model.slidingWindowLayers} of ${model.layers}` : 'none (all layers attend globally)',
    ],
    [
      'tokenizer',
      'Tokenizer',
      model.tokenizer ? <>present: <code>{model.tokenizer}</code></> : 'none in the folder (runs need token ids, not text)',
    ],
    ['memory', 'Memory a run needs', `about ${formatBytes(model.memoryBytes)} (float32 weights plus activations)`],
  ];
  return (
    <div data-testid="model-info">
      <h3>
        Selected model: <code>{model.path}</code>
      </h3>
      <table className="model-info">
        <tbody>
          {rows.map(([field, label, value]) => (
            <tr key={field} data-field={field}>
              <th scope="row">{label}</th>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <MemoryCheck need={model.memoryBytes} caps={caps} />
    </div>
  );
}

function MemoryCheck({ need, caps }: { need: number; caps: Capabilities | null }) {
  if (!caps) return <p className="hint" aria-busy="true">Checking this machine's memory…</p>;
  const free = formatBytes(caps.memoryFreeMb * 2 ** 20);
  const total = formatBytes(caps.memoryTotalMb * 2 ** 20);
  const verdict = memoryVerdict(need, caps.memoryFreeMb, caps.memoryTotalMb);
  return (
    <>
      <p data-testid="memory">
        A run needs about <strong>{formatBytes(need)}</strong>; this machine has {free} free of {total}.
      </p>
      {verdict === 'exceeds-total' && (
        <p className="warning" role="alert" data-testid="memory-warning">
          This model needs more memory than this machine has in total ({total}): it cannot run here.
        </p>
      )}
      {verdict === 'exceeds-free' && (
        <p className="warning" role="alert" data-testid="memory-warning">
          This model needs more memory than is free now ({free} of {total}): close other programs first, or expect the run to swap or fail.
        </p>
      )}
    </>
  );
}

function Machine({ caps, error }: { caps: Capabilities | null; error: string | null }) {
  return (
    <div className="machine">
      <h3>Execution providers</h3>
      <ErrorMessage error={error} />
      {!caps && !error && <p aria-busy="true">Probing the execution providers…</p>}
      {caps && (
        <>
          <p data-testid="preferred-provider">
            "auto" will use <strong>{PROVIDER_LABELS[caps.preferred]}</strong>. onnxruntime {caps.onnxruntime} on {caps.platform},{' '}
            {caps.cpuModel}, {caps.logicalCores} logical cores.
          </p>
          <table className="providers" aria-label="execution providers">
            <thead>
              <tr>
                <th>Provider</th>
                <th>Available</th>
                <th>Detail</th>
                <th>Probe</th>
              </tr>
            </thead>
            <tbody>
              {caps.providers.map((p) => (
                <tr key={p.name} data-provider={p.name} data-available={p.available}>
                  <td>
                    {PROVIDER_LABELS[p.name]}
                    {p.name === caps.preferred && <span className="badge">auto</span>}
                  </td>
                  <td>{p.available ? 'yes' : 'no'}</td>
                  <td>{p.detail}</td>
                  <td>{p.probeMs} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
