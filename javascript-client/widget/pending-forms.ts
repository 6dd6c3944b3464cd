/**
 * Holds back a form's submission while one of its uploads runs, with a visible message,
 * and submits it (with the same submit button) once every upload in it has finished;
 * and stops it while a chosen file failed to upload, which would otherwise be dropped unsaid.
 */
export interface WatchedWidget {
  readonly input: HTMLInputElement;
  readonly busy: boolean;
  /** A file was chosen and is not uploaded (its upload failed, or it was refused before). */
  readonly failed: boolean;
  showWaiting(): void;
  showNotUploaded(): void;
}

interface FormState {
  readonly widgets: Set<WatchedWidget>;
  waiting: boolean;
  submitter: HTMLElement | null;
}

export class PendingForms {
  private readonly forms = new WeakMap<HTMLFormElement, FormState>();

  watch(widget: WatchedWidget): void {
    const form = widget.input.form;
    if (form === null) {
      return;
    }
    let state = this.forms.get(form);
    if (state === undefined) {
      const created: FormState = { widgets: new Set(), waiting: false, submitter: null };
      state = created;
      this.forms.set(form, created);
      // Capture phase: decided before the page's own submit handlers run.
      form.addEventListener('submit', (event) => this.onSubmit(event, created), true);
    }
    state.widgets.add(widget);
  }

  /** A widget taken off the page (a removed row): its form no longer waits for it. */
  forget(widget: WatchedWidget): void {
    const form = widget.input.form;
    if (form !== null) this.forms.get(form)?.widgets.delete(widget);
  }

  private onSubmit(event: SubmitEvent, state: FormState): void {
    const present = [...state.widgets].filter((widget) => widget.input.isConnected);
    const failed = present.filter((widget) => widget.failed);
    if (failed.length > 0) {
      event.preventDefault();
      event.stopImmediatePropagation();
      state.waiting = false;
      state.submitter = null;
      for (const widget of failed) {
        widget.showNotUploaded();
      }
      return;
    }
    const busy = present.filter((widget) => widget.busy);
    if (busy.length === 0) {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    state.waiting = true;
    state.submitter = event.submitter;
    for (const widget of busy) {
      widget.showWaiting();
    }
  }

  /** Told when an upload ends; `succeeded: false` (error, cancel) drops the queued submission. */
  settled(widget: WatchedWidget, succeeded: boolean): void {
    const form = widget.input.form;
    const state = form === null ? undefined : this.forms.get(form);
    if (form === null || state === undefined || !state.waiting) {
      return;
    }
    if (!succeeded) {
      state.waiting = false;
      state.submitter = null;
      return;
    }
    if ([...state.widgets].some((other) => other.input.isConnected && other.busy)) {
      return;
    }
    const submitter = state.submitter;
    state.waiting = false;
    state.submitter = null;
    if (submitter?.isConnected) {
      form.requestSubmit(submitter);
    } else {
      form.requestSubmit();
    }
  }
}

export const pendingForms = new PendingForms();
