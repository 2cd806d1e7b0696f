import { describe, expect, it } from 'vitest';
import { kongEscape, renderTemplate, templateSyntaxError } from '../../../shared/hooks/templates.ts';

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
