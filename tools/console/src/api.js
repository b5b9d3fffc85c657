// The service's API (docs/api.md) with the token kept in sessionStorage: it
// goes in the Authorization header, never in a cookie, and is gone when the
// tab closes.
const KEY = 'ethos.token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error.message : `HTTP ${status}`);
    this.status = status;
    this.error = body && body.error ? body.error : {message: this.message};
    this.body = body;
  }
}

export async function api(path, {method = 'GET', body, raw = false} = {}) {
  const headers = {Authorization: `Bearer ${token.get() || ''}`};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit', cache: 'no-store',
  });
  if (res.status === 401) {
    token.clear();
    window.dispatchEvent(new Event('ethos:logout'));
  }
  if (raw && res.ok) return res.text();
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = {error: {message: text}}; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// Polls a job (POST /v1/jobs/...) until it is done; onProgress(done, total).
export async function runJob(path, body, onProgress) {
  const started = await api(path, {method: 'POST', body: body ?? {}});
  for (;;) {
    const job = await api(`/v1/jobs/${encodeURIComponent(started.job)}`);
    onProgress(job.done, job.total);
    if (job.state === 'done') {
      if (job.status !== 200) throw new ApiError(job.status, job.result);
      return job.result;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}
