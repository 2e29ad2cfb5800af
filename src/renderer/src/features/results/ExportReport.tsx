// The whole report (summary.json, report.html, CSVs, SVG/PNG charts) written by the backend with
// the same request that produced the results shown.
import { useState } from 'react';
import type { AnalysisExport, ProgressEvent } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import { api, errorMessage, withJobProgress } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { FolderField } from '../../components/FolderField';
import { Progress } from '../../components/Progress';
import type { AnalysisRequest } from '../../state/wizard';

export function ExportReport({ request }: { request: AnalysisRequest }) {
  const [outDir, setOutDir] = useState('');
  const [jobId, setJobId] = useState<string | null>(null);
  const [progress, setProgress] = useState<ProgressEvent | null>(null);
  const [written, setWritten] = useState<AnalysisExport | null>(null);
  const [error, setError] = useState<{ code?: string; message: string } | null>(null);

  const run = async () => {
    const id = crypto.randomUUID();
    setJobId(id);
    setProgress(null);
    setError(null);
    setWritten(null);
    try {
      setWritten(await withJobProgress(id, setProgress, () => api.analysis.export({ ...request, outDir: outDir.trim(), jobId: id })));
    } catch (e) {
      setError({
        code: e instanceof ApiError ? e.code : undefined,
        message: e instanceof ApiError && e.code === 'CANCELLED' ? 'Export cancelled; nothing was written.' : errorMessage(e),
      });
    } finally {
      setJobId(null);
    }
  };

  return (
    <div className="export-report">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (outDir.trim() && !jobId) void run();
        }}
      >
        <FolderField label="Report folder:" name="report folder" value={outDir} placeholder="a folder to write the report into" dialogTitle="Choose a folder for the report" onChange={setOutDir}>
          <button type="submit" className="primary" disabled={!outDir.trim() || !!jobId}>
            Export report (HTML)
          </button>
        </FolderField>
      </form>
      {jobId && <Progress progress={progress} onCancel={() => void api.jobs.cancel({ jobId })} />}
      <ErrorMessage error={error?.message ?? null} code={error?.code} />
      {written && (
        <div data-testid="export-files">
          <p>
            Wrote {written.files.length} files to <code>{written.outDir}</code>:
          </p>
          <ul className="files">
            {written.files.map((f) => (
              <li key={f}>
                <code>{f}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
