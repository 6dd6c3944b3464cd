/**
 * The demo's single-page upload: many files dropped at once, each uploaded by the npm client
 * with its own progress, then saved as a `Resource` through the REST API.
 * Built into test_app/static/test_app/spa-demo.js by `npm run build`.
 */
import { S3FileFieldClient } from '../src/index.js';

const fieldId = 'test_app.Resource.blob';

function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match?.[1] === undefined ? '' : decodeURIComponent(match[1]);
}

function row(list: HTMLElement, file: File): { bar: HTMLProgressElement; status: HTMLElement } {
  const item = document.createElement('li');
  item.className = 'spa-item';
  const name = document.createElement('span');
  name.className = 'spa-name';
  name.textContent = file.name;
  const bar = document.createElement('progress');
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute('aria-label', file.name);
  const status = document.createElement('span');
  status.className = 'spa-status';
  status.setAttribute('role', 'status');
  item.append(name, bar, status);
  list.append(item);
  return { bar, status };
}

async function uploadOne(client: S3FileFieldClient, list: HTMLElement, apiUrl: string, file: File): Promise<void> {
  const { bar, status } = row(list, file);
  try {
    const fieldValue = await client.uploadFile(file, fieldId, {
      onProgress: ({ uploaded, total }) => {
        bar.value = total === 0 ? 100 : (uploaded / total) * 100;
      },
    });
    const response = await fetch(apiUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken() },
      body: JSON.stringify({ blob: fieldValue }),
    });
    if (!response.ok) {
      throw new Error(`the API answered ${response.status}: ${await response.text()}`);
    }
    const created = (await response.json()) as { id: number; blob: string };
    const link = document.createElement('a');
    link.href = created.blob;
    link.textContent = `Resource ${created.id}`;
    status.replaceChildren('saved as ', link);
    status.dataset.state = 'done';
  } catch (error) {
    status.textContent = error instanceof Error ? error.message : String(error);
    status.dataset.state = 'error';
  }
}

function start(): void {
  const zone = document.querySelector<HTMLElement>('#spa-drop');
  const input = document.querySelector<HTMLInputElement>('#spa-files');
  const list = document.querySelector<HTMLElement>('#spa-list');
  if (zone === null || input === null || list === null) {
    return;
  }
  const client = new S3FileFieldClient({ baseUrl: zone.dataset.uploadApi ?? '/api/s3-upload/' });
  const apiUrl = zone.dataset.resourcesApi ?? '/api/resources/';
  const uploadAll = (files: FileList): void => {
    for (const file of files) {
      void uploadOne(client, list, apiUrl, file);
    }
  };
  input.addEventListener('change', () => {
    if (input.files !== null) {
      uploadAll(input.files);
      input.value = '';
    }
  });
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('spa-dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('spa-dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('spa-dragging');
    if (event.dataTransfer !== null) {
      uploadAll(event.dataTransfer.files);
    }
  });
}

start();
