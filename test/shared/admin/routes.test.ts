import { describe, expect, it } from 'vitest';
import { ADMIN_ROUTES, matchRoute } from '../../../shared/admin/router.ts';

const parts = (path: string) => path.split('/').filter((part) => part.length > 0);

describe('the Admin API route table', () => {
  it('matches each route by its own pattern: no route shadows another', () => {
    for (const route of ADMIN_ROUTES) {
      const path = route.path.replace(/\{(\w+)\}/g, (_match, name: string) => `some-${name}`);
      expect(matchRoute(ADMIN_ROUTES, parts(path))?.route.path, path).toBe(route.path);
    }
  });

  it('prefers literal segments to parameters, and hands parameters over decoded and in order', () => {
    expect(matchRoute(ADMIN_ROUTES, parts('/event-hooks/sources'))?.route.path).toBe('/event-hooks/sources');
    expect(matchRoute(ADMIN_ROUTES, ['event-hooks', 'sources', 'a b', 'c/d'])).toEqual({
      route: expect.objectContaining({ path: '/event-hooks/sources/{source}/{event}' }),
      params: ['a b', 'c/d'],
    });
    expect(matchRoute(ADMIN_ROUTES, parts('/event-hooks/x/test'))?.route.path).toBe('/event-hooks/{id}/test');
  });

  it('matches nothing for an unknown path, an unknown action or extra segments', () => {
    for (const path of [
      '/',
      '/nope',
      '/event-hooks/x/nope',
      '/event-hooks/x/test/y',
      '/dead-letters/x/y',
      '/health/x',
    ]) {
      expect(matchRoute(ADMIN_ROUTES, parts(path)), path).toBeUndefined();
    }
  });
});
