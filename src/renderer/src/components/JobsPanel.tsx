// The backend's jobs, reachable from every step: what runs (with progress, from any page or a page
// since closed) and what ended recently, each running one cancellable from here.
import { useEffect, useRef, useState } from 'react';
import type { JobInfo } from '../../../shared/dto';
import { api, errorMessage } from '../api';
import { useStore } from '../state/store';
import { STEPS } from '../state/wizard';
import { jobsList, refreshJobs, stepOfMethod, watchJobs } from './jobs-store';

function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function duration(job: JobInfo, now: number): string {
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now;
  const s = Math.max(0, Math.round((end - Date.parse(job.startedAt)) / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function JobRow({ job, now }: { job: JobInfo; now: number }) {
  const [problem, setProblem] = useState<string | null>(null);
  const step = stepOfMethod(job.method);
  const stepLabel = STEPS.find((s) => s.id === step)?.label;
  const p = job.progress;
  const cancel = () => {
    setProblem(null);
    api.jobs.cancel({ jobId: job.jobId }).then(
      () => void refreshJobs(),
      (e: unknown) => setProblem(errorMessage(e)),
    );
  };
  return (
    <li className={`job job-${job.state}`} data-job-id={job.jobId} data-state={job.state} data-method={job.method}>
      <div className="job-head">
        <strong>{job.method}</strong>
        {stepLabel && <span className="job-step"> ({stepLabel} step)</span>}
        <span className="job-state" data-testid="job-state">
          {job.state === 'running' && job.cancelRequested ? 'cancelling' : job.state}
        </span>
      </div>
      <div className="job-summary" title={job.summary}>
        {job.summary}
      </div>
      <div className="job-times">
        started {clock(job.startedAt)}, {job.state === 'running' ? 'running for' : 'took'} {duration(job, now)}
        {job.joined > 0 && `, joined by ${job.joined} identical request${job.joined === 1 ? '' : 's'}`}
        {job.ownerRun && `, run ${job.ownerRun}`}
      </div>
      {job.state === 'running' && (
        <div className="job-progress">
          <progress max={1} value={p && p.total > 0 ? p.done / p.total : 0} aria-label={`${job.method} progress`} />{' '}
          <span data-testid="job-progress">{p ? `${p.stage} ${p.done}/${p.total}` : 'starting…'}</span>{' '}
          <button type="button" onClick={cancel} disabled={job.cancelRequested} aria-label={`Cancel job ${job.method} started ${clock(job.startedAt)}`}>
            {job.cancelRequested ? 'Cancelling…' : 'Cancel job'}
          </button>
        </div>
      )}
      {job.outcome && !job.outcome.ok && (
        <div className="job-outcome" data-code={job.outcome.error.code}>
          {job.outcome.error.code}: {job.outcome.error.message}
        </div>
      )}
      {job.outcome?.ok && <div className="job-outcome">{job.outcome.summary}</div>}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </li>
  );
}

/** A "Jobs" button for the header and the drawer it opens. */
export function JobsPanel() {
  const { jobs, open, error } = useStore(jobsList, (s) => s);
  const [now, setNow] = useState(Date.now());
  const toggleRef = useRef<HTMLButtonElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => watchJobs(), []);
  // Opening moves focus to the list; closing gives it back to the button that opened it.
  useEffect(() => {
    if (open) headingRef.current?.focus();
  }, [open]);
  const close = () => {
    jobsList.set({ open: false });
    toggleRef.current?.focus();
  };
  const running = jobs.filter((j) => j.state === 'running');
  useEffect(() => {
    if (!open || running.length === 0) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [open, running.length]);
  const toggle = () => {
    jobsList.set((s) => ({ open: !s.open }));
    if (!open) void refreshJobs();
  };
  return (
    <div className="jobs">
      <button ref={toggleRef} type="button" className="jobs-toggle" aria-expanded={open} aria-controls="jobs-panel" onClick={toggle}>
        Jobs{running.length > 0 && <span className="badge" data-testid="jobs-running">{running.length} running</span>}
      </button>
      {open && (
        <section id="jobs-panel" className="jobs-panel" aria-label="Jobs" onKeyDown={(e) => e.key === 'Escape' && close()}>
          <div className="jobs-panel-head">
            <h2 ref={headingRef} tabIndex={-1}>
              Jobs
            </h2>
            <button type="button" onClick={close}>
              Close
            </button>
          </div>
          <p className="hint">Work runs in the backend: it goes on when a page is reloaded or closed, and an identical request joins it.</p>
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          {jobs.length === 0 ? (
            <p className="hint">No jobs yet.</p>
          ) : (
            <ul className="job-list">
              {jobs.map((job) => (
                <JobRow key={job.jobId} job={job} now={now} />
              ))}
            </ul>
          )}
        </section>
      )}
    </div>
  );
}
