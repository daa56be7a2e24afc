import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley } from '../helpers/parley.ts';

test('the OpenAPI document is generated from the routes, with the security schemes and each route\'s roles', async () => {
  const parley = await startTestParley();
  try {
    const response = await parley.request('/api/openapi.json');
    assert.equal(response.status, 200);
    const doc = (await response.json()) as any;
    assert.match(doc.openapi, /^3\.1/);
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['bearer', 'csrf', 'session']);
    assert.deepEqual(doc.components.securitySchemes.session, { type: 'apiKey', in: 'cookie', name: 'parley_session', description: doc.components.securitySchemes.session.description });
    assert.equal(doc.components.securitySchemes.bearer.scheme, 'bearer');
    assert.equal(doc.components.securitySchemes.csrf.name, 'x-csrf-token');
    assert.ok(doc.components.schemas.Error, 'the error shape is described once');

    // every API route is in the document, nothing else
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item as object).map((m) => `${m.toUpperCase()} ${path}`));
    const routes = parley.app.routeAccess
      .filter((r) => r.url.startsWith('/api/v1/') && r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    assert.deepEqual(documented.sort(), routes.sort());
    assert.equal(doc.paths['/healthz'], undefined);
    assert.equal(doc.paths['/metrics'], undefined);

    const signIn = doc.paths['/api/v1/auth/session'].post;
    assert.deepEqual(signIn.security, []);
    assert.ok(signIn.requestBody.content['application/json'].schema.properties.password);
    assert.ok(signIn.responses['429']);
    const createUser = doc.paths['/api/v1/users'].post;
    assert.deepEqual(createUser.security, [{ session: [], csrf: [] }, { bearer: [] }]);
    assert.match(createUser.description, /Roles: admin\./);
    assert.ok(createUser.responses['201'].content['application/json'].schema.properties.user);
    assert.deepEqual(doc.paths['/api/v1/auth/me'].get.security, [{ session: [] }, { bearer: [] }]);
  } finally {
    await parley.stop();
  }
});
