import Mustache from 'mustache';
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../../shared/errors.ts';
import {
  DEFAULT_TEMPLATE_MAX_BYTES,
  kongEscape,
  renderTemplate,
  renderValues,
  TEMPLATE_MAX_STEPS,
  templateBudget,
  templateSyntaxError,
} from '../../../shared/hooks/templates.ts';

describe('templateSyntaxError', () => {
  it.each([
    'Admin account `{{ entity.username }}` {{ operation}}d; email address set to `{{ entity.email }}`',
    '{{{ raw }}}',
    '{{#entity.tags}}{{.}},{{/entity.tags}}',
    '{{^entity}}none{{/entity}}',
    'plain text',
  ])('accepts %s', (template) => {
    expect(templateSyntaxError(template)).toBeUndefined();
  });

  it.each([
    ['{{#a}}x', /Unclosed section "a"/],
    ['{{ a ', /Unclosed tag/],
    ['{{#a}}{{#b}}x{{/b}}{{/a}}', /sections cannot be nested/],
    ['{{#a}}{{^b}}x{{/b}}{{/a}}', /sections cannot be nested/],
    ['{{> other}}', /partials are not supported/],
  ])('refuses %s', (template, message) => {
    expect(templateSyntaxError(template)).toMatch(message);
  });
});

describe('renderTemplate', () => {
  it('renders dotted paths, escaping as Kong does, and {{{ }}} raw', () => {
    const data = { entity: { username: 'a<b>/c' }, operation: 'create' };
    expect(renderTemplate('{{ entity.username }} {{{ entity.username }}} {{operation}}d {{ missing }}!', data)).toBe(
      'a&lt;b&gt;&#47;c a<b>/c created !',
    );
  });

  it('escapes exactly & < > " \' /', () => {
    expect(kongEscape(`&<>"'/=\``)).toBe('&amp;&lt;&gt;&quot;&#39;&#47;=`');
  });
});

describe('renderTemplate, as mustache renders', () => {
  const data = {
    operation: 'update',
    count: 3,
    zero: 0,
    yes: true,
    no: false,
    nothing: null,
    empty: '',
    name: 'Zoë & <co>',
    tags: ['a', 'b/c', 'd'],
    none: [],
    entity: { username: "o'neil", nested: { deep: 'x"y' }, tags: ['t1', 't2'] },
    people: [{ name: 'ann' }, { name: 'bo', extra: 'e' }, { other: 1 }],
  };
  it.each([
    'plain text',
    '{{ operation }} {{count}} {{zero}} {{yes}} {{no}} [{{nothing}}] [{{empty}}] {{name}} {{{name}}} {{&name}}',
    '{{entity.username}} {{entity.nested.deep}} {{{entity.nested.deep}}} {{entity.missing}} {{missing.path}}',
    '{{#tags}}[{{.}}]{{/tags}} {{#tags}}{{{.}}}{{/tags}} {{^none}}no tags{{/none}} {{#none}}never{{/none}}',
    '{{#entity}}{{username}} does {{operation}}{{/entity}}',
    '{{#entity.tags}}{{.}},{{/entity.tags}}',
    '{{#people}}{{name}}{{extra}}:{{operation}};{{/people}}',
    '{{#yes}}yes {{operation}}{{/yes}}{{#no}}no{{/no}}{{^no}}not no{{/no}}{{^yes}}not yes{{/yes}}',
    '{{#name}}{{.}}{{/name}} {{#count}}{{.}}{{/count}} {{#zero}}zero{{/zero}} {{^zero}}no zero{{/zero}}',
    '{{#nothing}}x{{/nothing}}{{^nothing}}nothing{{/nothing}}{{^empty}}empty{{/empty}}',
    '{{tags.1}} {{tags.length}} {{name.length}} {{entity.username.length}} {{entity.tags.0}}',
    '{{! a comment }}before{{=<% %>=}}<% operation %> <%{ name }%>',
    '  {{#tags}}\n  line {{.}}\n  {{/tags}}\n',
  ])('renders %j exactly as Mustache.render', (template) => {
    // Act
    const ours = renderTemplate(template, data);

    // Assess
    expect(ours).toBe(Mustache.render(template, data, undefined, { escape: kongEscape }));
  });
});

describe('renderTemplate, own properties only', () => {
  const PROTOTYPE_NAMES = [...new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__'])];
  const data = { entity: { username: 'bob' }, tags: ['a'], text: 'abc', count: 1 };

  it.each(PROTOTYPE_NAMES)('renders %s as a path that reaches no prototype', (name) => {
    // Act
    const rendered = [
      `{{${name}}}`,
      `{{{${name}}}}`,
      `{{entity.${name}}}`,
      `{{tags.${name}}}`,
      `{{text.${name}}}`,
      `{{count.${name}}}`,
      `{{${name}.name}}`,
      `{{#${name}}}x{{/${name}}}`,
      `{{#tags}}{{${name}}}{{/tags}}`,
      `{{#entity}}{{${name}}}{{/entity}}`,
    ].map((template) => renderTemplate(template, data));

    // Assess
    expect(rendered).toEqual(Array(rendered.length).fill(''));
    expect(renderTemplate(`{{^${name}}}absent{{/${name}}}`, data)).toBe('absent');
  });

  it('renders {{constructor.name}} empty where mustache walked to "Object"', () => {
    expect(renderTemplate('[{{constructor.name}}]', {})).toBe('[]');
  });

  it('still renders event data that happens to use those names as its own keys', () => {
    // Prepare: JSON.parse makes `__proto__` an own key, as in any event body.
    const data = JSON.parse('{"__proto__":"p","constructor":{"name":"c"},"toString":"s"}');

    // Act & Assess
    expect(renderTemplate('{{__proto__}} {{constructor.name}} {{toString}}', data)).toBe('p c s');
  });
});

describe('renderTemplate, objects and arrays', () => {
  const data = { entity: { name: 'a<b>', tags: ['x', 'y'], n: null }, tags: ['a/b', 1, true], empty: {} };

  it('inserts an object as JSON, HTML-escaped in {{ }} and as is in {{{ }}}', () => {
    expect(renderTemplate('{{entity}}', data)).toBe(kongEscape(JSON.stringify(data.entity)));
    expect(renderTemplate('{{ entity }}', data)).toBe(
      '{&quot;name&quot;:&quot;a&lt;b&gt;&quot;,&quot;tags&quot;:[&quot;x&quot;,&quot;y&quot;],&quot;n&quot;:null}',
    );
    expect(renderTemplate('{{{entity}}}', data)).toBe('{"name":"a<b>","tags":["x","y"],"n":null}');
    expect(renderTemplate('{{&empty}}', data)).toBe('{}');
  });

  it('inserts an array as JSON too, not joined with commas', () => {
    expect(renderTemplate('{{{tags}}} {{{entity.tags}}}', data)).toBe('["a/b",1,true] ["x","y"]');
    expect(renderTemplate('{{tags}}', data)).toBe('[&quot;a&#47;b&quot;,1,true]');
  });
});

describe('renderTemplate, budget', () => {
  /** Defect 3 of issue 8: 1,500 × 100,000 `&` escaped to `&amp;` asked for 750 MB. */
  const amplifying = { items: Array.from({ length: 1500 }, (_, i) => i), big: '&'.repeat(100_000) };

  it('stops the amplification case at the cap, quickly, with a final TemplateError', () => {
    // Act
    const started = performance.now();
    const thrown = captured(() => renderTemplate('{{#items}}{{big}}{{/items}}', amplifying, templateBudget(), 'body'));
    const elapsed = performance.now() - started;

    // Assess
    expect(thrown).toBeInstanceOf(TemplateError);
    expect((thrown as TemplateError).retryable).toBe(false);
    expect((thrown as TemplateError).message).toBe(
      `body: the rendered templates pass ${DEFAULT_TEMPLATE_MAX_BYTES} bytes (TEMPLATE_MAX_BYTES); nothing was sent`,
    );
    expect(elapsed).toBeLessThan(1000);
  });

  it('counts bytes, not characters, and renders output of exactly the cap', () => {
    // Prepare: 'é' is 2 bytes in UTF-8.
    const data = { s: 'é'.repeat(5) };

    // Act & Assess
    expect(renderTemplate('{{s}}', data, templateBudget(10))).toBe('ééééé');
    expect(() => renderTemplate('{{s}}!', data, templateBudget(10))).toThrow(TemplateError);
    expect(() => renderTemplate('{{s}}', data, templateBudget(9))).toThrow(/pass 9 bytes/);
  });

  it('shares one budget across every value of a map, and names the one that passed it', () => {
    // Prepare
    const budget = templateBudget(10);

    // Act
    const thrown = captured(() => renderValues({ a: '12345', b: '{{x}}' }, { x: '123456' }, budget, 'payload'));

    // Assess
    expect(thrown).toBeInstanceOf(TemplateError);
    expect((thrown as Error).message).toMatch(/^payload\.b: the rendered templates pass 10 bytes/);
    expect(budget.bytes).toBe(5);
  });

  it('bounds the work of a render whose output stays empty', () => {
    // Prepare: 100 tags over 20,000 elements is 2 million steps and renders nothing.
    const data = { items: Array.from({ length: 20_000 }, () => ({})) };
    const template = `{{#items}}${'{{missing}}'.repeat(100)}{{/items}}`;

    // Act
    const started = performance.now();
    const thrown = captured(() => renderTemplate(template, data));

    // Assess
    expect(thrown).toBeInstanceOf(TemplateError);
    expect((thrown as Error).message).toMatch(`takes more than ${TEMPLATE_MAX_STEPS} steps`);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('reports a template that does not parse as a TemplateError, not a plain Error', () => {
    expect(captured(() => renderTemplate('{{#a}}x', {}))).toBeInstanceOf(TemplateError);
  });

  it('renders a loop that stays within the budget in full', () => {
    // Prepare
    const data = { items: Array.from({ length: 1000 }, (_, i) => ({ id: i })) };

    // Act
    const rendered = renderTemplate('{{#items}}{{id}},{{/items}}', data);

    // Assess
    expect(rendered.split(',')).toHaveLength(1001);
  });
});

function captured(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
