// Field templates the Generate tab and the Inpaint tab's parameters share: a labelled field with
// its error text, and the controls of the parameters both tabs edit (prompts, model, VAE, sampler,
// schedule, steps, CFG, seed). Each tab keeps its own ids (`f-` / `i-`) and error test ids, so the
// two forms can live in one page and the browser tests can tell them apart.
import { html, nothing, type TemplateResult } from 'lit';
import '../generate/prompt-field.js';
import type { NamedOption, ServerInfo } from '../../data/info.js';
import { LIMITS, VAE_AUTOMATIC, VAE_NONE, type FieldErrors } from '../../logic/generation-form.js';
import type { SharedForm } from '../generate/form-store.js';

/**
 * A label, its control and the field's error, if any. The control's id must be `${idPrefix}${name}`.
 *
 * @example formField('f-', 'steps', 'Steps', html`<input id="f-steps" ...>`, errors.steps)
 */
export function formField(idPrefix: string, name: string, label: string, control: unknown, error: string | undefined, testIdPrefix = ''): TemplateResult {
  return html`<div class="field ${error ? 'invalid' : ''}">
    <label for="${idPrefix}${name}">${label}</label>${control}${error ? html`<div class="error-text" data-testid="${testIdPrefix}error-${name}">${error}</div>` : nothing}
  </div>`;
}

/** What the shared parameter fields need from the tab that shows them. */
export interface ParamFieldContext {
  /** `f-` for Generate, `i-` for Inpaint: the controls' ids. */
  idPrefix: string;
  /** Prefix of the error texts' test ids (`''` → `error-steps`, `'inpaint-'` → `inpaint-error-steps`). */
  testIdPrefix: string;
  form: SharedForm;
  info: ServerInfo;
  errors: FieldErrors;
  change(patch: Partial<SharedForm>): void;
}

function field(c: ParamFieldContext, name: string, label: string, control: unknown): TemplateResult {
  return formField(c.idPrefix, name, label, control, c.errors[name], c.testIdPrefix);
}

const selected = (e: Event): string => (e.target as HTMLSelectElement).value;
const numberIn = (e: Event): number => (e.target as HTMLInputElement).valueAsNumber;

/** A select's options for a list of names; a current value the server does not list still shows, so it is never silently swapped. */
function nameOptions(current: string, names: readonly string[], reserved: readonly string[]) {
  const unlisted = current && !reserved.includes(current) && !names.includes(current);
  return html`${unlisted ? html`<option value=${current} selected>${current}</option>` : nothing}
  ${names.map((n) => html`<option value=${n} ?selected=${n === current}>${n}</option>`)}`;
}

function namedOptions(current: string, options: readonly NamedOption[]) {
  return options.map((o) => html`<option value=${o.id} ?selected=${o.id === current}>${o.label}</option>`);
}

export function modelField(c: ParamFieldContext): TemplateResult {
  const m = c.form.model;
  return field(
    c,
    'model',
    'Model',
    html`<select id="${c.idPrefix}model" @change=${(e: Event) => c.change({ model: selected(e) })}>
      <option value="" ?selected=${m === ''}>Server default</option>
      ${nameOptions(m, c.info.models, [''])}
    </select>`,
  );
}

/** Automatic (the field is left out), None, and every VAE in the server's registry. */
export function vaeField(c: ParamFieldContext): TemplateResult {
  const v = c.form.vae;
  return field(
    c,
    'vae',
    'VAE',
    html`<select id="${c.idPrefix}vae" data-testid="${c.testIdPrefix}vae" @change=${(e: Event) => c.change({ vae: selected(e) })}>
      <option value=${VAE_AUTOMATIC} ?selected=${v === VAE_AUTOMATIC}>Automatic</option>
      <option value=${VAE_NONE} ?selected=${v === VAE_NONE}>None</option>
      ${nameOptions(v, c.info.vaes, [VAE_AUTOMATIC, VAE_NONE])}
    </select>`,
  );
}

export function samplerField(c: ParamFieldContext): TemplateResult {
  return field(c, 'sampler', 'Sampler', html`<select id="${c.idPrefix}sampler" @change=${(e: Event) => c.change({ sampler: selected(e) })}>${namedOptions(c.form.sampler, c.info.samplers)}</select>`);
}

export function schedulerField(c: ParamFieldContext): TemplateResult {
  return field(
    c,
    'scheduler',
    'Schedule type',
    html`<select id="${c.idPrefix}scheduler" @change=${(e: Event) => c.change({ scheduler: selected(e) })}>${namedOptions(c.form.scheduler, c.info.schedulers)}</select>`,
  );
}

export function stepsField(c: ParamFieldContext): TemplateResult {
  return field(
    c,
    'steps',
    'Steps',
    html`<input id="${c.idPrefix}steps" type="number" inputmode="numeric" min="1" max=${LIMITS.maxSteps} .value=${String(c.form.steps)} @change=${(e: Event) => c.change({ steps: numberIn(e) })} />`,
  );
}

export function cfgField(c: ParamFieldContext): TemplateResult {
  return field(
    c,
    'cfg_scale',
    'CFG scale',
    html`<input id="${c.idPrefix}cfg_scale" type="number" inputmode="decimal" step="0.5" min=${LIMITS.minCfg} max=${LIMITS.maxCfg} .value=${String(c.form.cfgScale)} @change=${(e: Event) => c.change({ cfgScale: numberIn(e) })} />`,
  );
}

export function seedField(c: ParamFieldContext): TemplateResult {
  return field(
    c,
    'seed',
    'Seed (-1 = random)',
    html`<input id="${c.idPrefix}seed" type="number" inputmode="numeric" .value=${String(c.form.seed)} @change=${(e: Event) => c.change({ seed: numberIn(e) })} />`,
  );
}

/** Prompt and negative prompt with their token counts; `names` are the fields' `name` attributes (unique per page). */
export function promptFields(c: ParamFieldContext, names: { prompt: string; negative: string }, afterPrompt?: TemplateResult): TemplateResult {
  return html`<easel-prompt-field label="Prompt" name=${names.prompt} .value=${c.form.prompt} .error=${c.errors.prompt} @value-change=${(e: CustomEvent<string>) => c.change({ prompt: e.detail })}></easel-prompt-field>
    ${afterPrompt ?? ''}
    <easel-prompt-field
      label="Negative prompt"
      name=${names.negative}
      rows="2"
      .value=${c.form.negativePrompt}
      .error=${c.errors.negative_prompt}
      @value-change=${(e: CustomEvent<string>) => c.change({ negativePrompt: e.detail })}
    ></easel-prompt-field>`;
}
