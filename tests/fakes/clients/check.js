// Drives independent client libraries of the tracker services against cw-sandbox and asserts
// what they parsed: trakt.tv (Trakt), tmdb-ts (TMDb), graphql (AniList's schema, executing the
// fake's replies through graphql-js) and anilist-node (AniList). A fake that only our own code
// has talked to is not verified; these libraries were written against the real services.
//
// Usage: node check.js --sandbox PATH/cw-sandbox [--schema PATH/schema.graphql]
// Prints "N passed, M failed" and exits 1 when a check failed.
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

function argument(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const results = { passed: 0, failed: 0 };

async function check(name, fn) {
  try {
    await fn();
    results.passed += 1;
    console.log(`ok   ${name}`);
  } catch (e) {
    results.failed += 1;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}

// ---------------------------------------------------------------- sandbox

async function startSandbox(exe, services) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-clients-'));
  const info = path.join(dir, 'info.json');
  const proc = spawn(exe, ['--services', services.join(','), '--info', info], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`cw-sandbox exited: ${stderr}`);
    if (fs.existsSync(info)) {
      try {
        const parsed = JSON.parse(fs.readFileSync(info, 'utf8'));
        if (services.every((s) => parsed[s])) return { proc, info: parsed };
      } catch (_) { /* written in pieces; retry */ }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGTERM');
  throw new Error('cw-sandbox did not start within 30 s');
}

async function control(base, method, route, body) {
  const res = await fetch(`${base}/__sandbox/${route}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} /__sandbox/${route}: ${res.status} ${await res.text()}`);
  return res.json();
}

// ---------------------------------------------------------------- Trakt (trakt.tv)

const traktCatalog = {
  movies: [
    { title: 'The Matrix', year: 1999, runtime: 136,
      ids: { trakt: 481, slug: 'the-matrix-1999', imdb: 'tt0133093', tmdb: 603 } },
    { title: 'Heat', year: 1995, ids: { trakt: 482, slug: 'heat-1995', imdb: 'tt0113277', tmdb: 949 } },
  ],
  shows: [{
    title: 'Show', year: 2008, ids: { trakt: 1390, slug: 'show', tvdb: 81189, tmdb: 1396 },
    seasons: [{ number: 1, ids: { trakt: 61430 }, episodes: [1, 2, 3].map((e) => ({
      season: 1, number: e, title: `Ep ${e}`, runtime: 45, ids: { trakt: 7000 + e, tvdb: 8000 + e } })) }],
  }],
};

async function checkTrakt(sandbox) {
  const Trakt = require('trakt.tv');
  const { base_url: base, credentials: cred } = sandbox.info.trakt;
  await control(base, 'POST', 'seed', { catalog: traktCatalog });
  const trakt = new Trakt({ client_id: cred.client_id, client_secret: cred.client_secret, api_url: base,
                            useragent: 'cw-sandbox-check' });

  await check('trakt.tv: authorization-code exchange and refresh', async () => {
    await control(base, 'POST', 'oauth/approve', { code: 'sandbox-code' });
    const body = await trakt.exchange_code('sandbox-code');
    assert.ok(body.access_token && body.refresh_token, 'token pair');
    const token = trakt.export_token();
    assert.ok(token.expires > Date.now(), 'expires computed from created_at + expires_in');
    const refreshed = await trakt.refresh_token();
    assert.notEqual(refreshed.access_token, token.access_token);
  });

  await check('trakt.tv: last_activities', async () => {
    const act = await trakt.sync.last_activities();
    assert.match(act.all, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(act.watchlist && act.movies && act.episodes);
  });

  await check('trakt.tv: watchlist add, paged read with headers', async () => {
    const added = await trakt.sync.watchlist.add({ movies: [{ ids: { tmdb: 603 } }, { ids: { imdb: 'tt0000111' } }],
                                                   shows: [{ ids: { tvdb: 81189 } }] });
    assert.deepEqual(added.added, { movies: 1, shows: 1, seasons: 0, episodes: 0 });
    assert.deepEqual(added.not_found.movies, [{ ids: { imdb: 'tt0000111' } }]);
    const page = await trakt.sync.watchlist.get({ pagination: true, page: 1, limit: 1 });
    assert.equal(page.data.length, 1);
    assert.equal(page.pagination['item-count'], '2');
    assert.equal(page.pagination['page-count'], '2');
    assert.equal(page.data[0].movie.ids.trakt, 481);
  });

  let historyId;
  await check('trakt.tv: history add (documented keys), read, watched, remove by id', async () => {
    const out = await trakt.sync.history.add({
      movies: [{ ids: { trakt: 481 }, watched_at: '2026-01-05T20:31:45Z' }],
      episodes: [{ ids: { trakt: 7001 }, watched_at: '2026-01-06T10:00:00Z' }] });
    assert.deepEqual(out.added, { movies: 1, episodes: 1 });
    assert.deepEqual(Object.keys(out.not_found).sort(), ['episodes', 'movies', 'people', 'seasons', 'shows', 'users']);
    const page = await trakt.sync.history.get({ type: 'movies', pagination: true, page: 1, limit: 10 });
    assert.equal(page.data.length, 1);
    assert.equal(page.data[0].watched_at, '2026-01-05T20:31:00.000Z');
    historyId = page.data[0].id;
    const watched = await trakt.sync.watched({ type: 'shows' });
    assert.equal(watched[0].plays, 1);
    assert.equal(watched[0].seasons[0].episodes[0].number, 1);
    const mine = await trakt.users.watched({ username: 'me', type: 'movies' });
    assert.equal(mine[0].movie.ids.trakt, 481);
    const hist = await trakt.users.history({ username: 'me', type: 'episodes' });
    assert.equal(hist.length, 1);
    const removed = await trakt.sync.history.remove({ ids: [historyId, 1] });
    assert.equal(removed.deleted.movies, 1);
    assert.deepEqual(removed.not_found.ids, [1]);
  });

  await check('trakt.tv: show progress, summaries and id search with extended=full', async () => {
    const progress = await trakt.shows.progress.watched({ id: 'show' });
    assert.equal(progress.aired, 3);
    assert.equal(progress.completed, 1);
    assert.equal(progress.next_episode.number, 2);
    assert.equal(progress.next_episode.runtime, 45);
    const movie = await trakt.movies.summary({ id: 'the-matrix-1999', extended: 'full' });
    assert.equal(movie.runtime, 136);
    assert.equal(movie.released, '1999-01-01');
    const show = await trakt.shows.summary({ id: 1390, extended: 'full' });
    assert.equal(show.aired_episodes, 3);
    const hits = await trakt.search.id({ id_type: 'tvdb', id: 8002, type: 'episode', extended: 'full' });
    assert.equal(hits.length, 1);
    assert.equal(hits[0].episode.number, 2);
    assert.equal(hits[0].show.ids.trakt, 1390);
  });

  await check('trakt.tv: ratings and playback', async () => {
    const r = await trakt.sync.ratings.add({ movies: [{ ids: { trakt: 482 }, rating: 8 }] });
    assert.equal(r.added.movies, 1);
    const rated = await trakt.sync.ratings.get({ type: 'movies' });
    assert.equal(rated[0].rating, 8);
    await trakt.scrobble.pause({ movie: { ids: { trakt: 482 } }, progress: 42 });
    const playback = await trakt.sync.playback.get({});
    assert.equal(playback.length, 1);
    assert.equal(playback[0].progress, 42);
    await trakt.sync.playback.remove({ id: playback[0].id });
    assert.equal((await trakt.sync.playback.get({})).length, 0);
  });

  await check('trakt.tv: an expired token is a 401 the library surfaces', async () => {
    await control(base, 'POST', 'faults', { endpoint: '^/sync/last_activities', expire_token: true, count: 1 });
    await assert.rejects(trakt.sync.last_activities(), (e) => e.response && e.response.statusCode === 401);
  });
}

// ---------------------------------------------------------------- TMDb (tmdb-ts)

async function checkTmdb(sandbox) {
  const { TMDB } = require('tmdb-ts');
  const { base_url: base, credentials: cred } = sandbox.info.tmdb;
  await control(base, 'POST', 'seed', { catalog: {
    movies: [{ id: 603, title: 'The Matrix', release_date: '1999-03-30', runtime: 136,
               external_ids: { imdb_id: 'tt0133093' } }],
    tv: [{ id: 1396, name: 'Breaking Bad', first_air_date: '2008-01-20',
           external_ids: { imdb_id: 'tt0903747', tvdb_id: 81189 } }],
    episodes: [{ id: 62085, show_id: 1396, season_number: 1, episode_number: 1, name: 'Pilot',
                 external_ids: { imdb_id: 'tt0959621', tvdb_id: 349232 } }] } });
  // tmdb-ts always calls https://api.themoviedb.org/3; its customFetch hook points it here.
  const sandboxFetch = (url, init) => fetch(String(url).replace('https://api.themoviedb.org', base), init);
  const tmdb = new TMDB(cred.read_access_token, { fetch: sandboxFetch });

  await check('tmdb-ts: movie details with external_ids appended', async () => {
    const m = await tmdb.movies.details(603, ['external_ids']);
    assert.equal(m.title, 'The Matrix');
    assert.equal(m.runtime, 136);
    assert.equal(m.imdb_id, 'tt0133093');
    assert.equal(m.external_ids.imdb_id, 'tt0133093');
    assert.ok(Array.isArray(m.genres));
  });
  await check('tmdb-ts: tv details, seasons and external ids', async () => {
    const t = await tmdb.tvShows.details(1396, ['external_ids']);
    assert.equal(t.name, 'Breaking Bad');
    assert.equal(t.external_ids.tvdb_id, 81189);
    assert.equal(t.number_of_episodes, 1);
    assert.equal(t.seasons[0].episode_count, 1);
  });
  await check('tmdb-ts: find by imdb and tvdb', async () => {
    const byImdb = await tmdb.find.byExternalId('tt0133093', { external_source: 'imdb_id' });
    assert.equal(byImdb.movie_results[0].id, 603);
    const byTvdb = await tmdb.find.byExternalId('349232', { external_source: 'tvdb_id' });
    assert.equal(byTvdb.tv_episode_results[0].show_id, 1396);
  });
  await check('tmdb-ts: configuration', async () => {
    const c = await tmdb.configuration.getApiConfiguration();
    assert.equal(c.images.secure_base_url, 'https://image.tmdb.org/t/p/');
  });
  await check('tmdb-ts: errors, unknown routes included, are TMDb JSON the library rejects with', async () => {
    await assert.rejects(tmdb.movies.details(999999), (e) => e.status_code === 34 && e.success === false);
    const res = await fetch(`${base}/3/no/such/route`, { headers: { Authorization: `Bearer ${cred.read_access_token}` } });
    assert.equal(res.status, 404);
    const body = await res.json();
    assert.equal(body.status_code, 34);
    assert.equal(body.success, false);
  });
}

// ---------------------------------------------------------------- AniList (graphql, anilist-node)

async function checkAnilist(sandbox, schemaPath) {
  const graphql = require('graphql');
  const { base_url: base, credentials: cred } = sandbox.info.anilist;
  const viewer = cred.user.id;
  await control(base, 'POST', 'seed', {
    viewer: { mediaListOptions: { scoreFormat: 'POINT_10_DECIMAL' } },
    media: [{ id: 99426, idMal: 35839, type: 'ANIME', format: 'TV', episodes: 13, seasonYear: 2018,
              title: { romaji: 'Sora yori mo Tooi Basho', english: 'A Place Further Than the Universe', native: null },
              startDate: { year: 2018, month: 1, day: 2 } }],
    entries: [{ id: 7, mediaId: 99426, status: 'CURRENT', scoreRaw: 85, progress: 4 }],
    options: { rate_limit: 0 } });
  const schema = graphql.buildSchema(fs.readFileSync(schemaPath, 'utf8'));
  const post = async (query, variables = {}) => {
    const res = await fetch(`${base}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${cred.access_token}` },
      body: JSON.stringify({ query, variables }) });
    return { status: res.status, body: await res.json() };
  };

  // graphql-js executes the document over the fake's data: its scalar and enum serialisation,
  // non-null checks and field selection must give back exactly what the fake sent.
  const documents = [
    ['Viewer', '{ Viewer { id name mediaListOptions { scoreFormat rowOrder } options { displayAdultContent } } }', {}],
    ['MediaListCollection', `query ($u: Int) { MediaListCollection(userId: $u, type: ANIME) { hasNextChunk
       lists { name status isCustomList entries { id mediaId status progress score(format: POINT_10_DECIMAL)
       startedAt { year month day } updatedAt media { id idMal format episodes title { romaji english native } } } } } }`,
     { u: viewer }],
    ['SaveMediaListEntry', `mutation ($m: Int, $s: MediaListStatus, $sc: Float) {
       SaveMediaListEntry(mediaId: $m, status: $s, score: $sc) { id status score progress } }`,
     { m: 99426, s: 'PLANNING', sc: 7.5 }],
    ['Media with unmodelled fields', `{ Media(id: 99426) { id isAdult isFavourite genres coverImage { large }
       reviews { nodes { id } } mediaListEntry { id status } } }`, {}],
  ];
  for (const [name, text, variables] of documents) {
    await check(`graphql ${graphql.version}: ${name} reply fits AniList's schema`, async () => {
      const document = graphql.parse(text);
      assert.deepEqual(graphql.validate(schema, document), []);
      const { status, body } = await post(text, variables);
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.errors, undefined);
      const run = await graphql.execute({ schema, document, rootValue: body.data, variableValues: variables,
                                          fieldResolver: (src, _args, _ctx, info) => src[info.fieldName] });
      assert.deepEqual(run.errors, undefined, JSON.stringify(run.errors));
      assert.deepEqual(JSON.parse(JSON.stringify(run.data)), body.data);
    });
  }
  await check('graphql: documents graphql-js rejects are HTTP 400 with the GraphQL error', async () => {
    for (const [text, variables] of [
      ['{ Viewer { id nope } }', {}],
      ['{ Media(id: 99426, type: SERIES) { id } }', {}],
      ['{ Media(id: 99426) }', {}],
      ['query ($s: MediaListStatus) { MediaList(userId: 1, status: $s) { id } }', { s: 'WATCHING' }],
    ]) {
      const document = graphql.parse(text);
      const reference = graphql.validate(schema, document);
      const coerced = reference.length ? [] :
        graphql.getVariableValues(schema, document.definitions[0].variableDefinitions, variables).errors || [];
      assert.ok(reference.length + coerced.length > 0, `graphql-js accepts ${text}`);
      const { status, body } = await post(text, variables);
      assert.equal(status, 400, text);
      assert.equal(body.data, null);
      assert.ok(body.errors[0].message, text);
    }
  });

  await check('anilist-node 1.14.1: media, viewer and lists', async () => {
    // anilist-node posts to https://graphql.anilist.co with node-fetch; point that at the sandbox.
    const fetchPath = require.resolve('node-fetch', { paths: [path.dirname(require.resolve('anilist-node'))] });
    const realFetch = require(fetchPath);
    const redirected = (url, opts) => realFetch(String(url).replace('https://graphql.anilist.co', base), opts);
    Object.assign(redirected, realFetch);
    require.cache[fetchPath].exports = redirected;
    const Anilist = require('anilist-node');
    const anilist = new Anilist(cred.access_token);
    const media = await anilist.media.anime(99426);
    assert.equal(media.id, 99426);
    assert.equal(media.idMal, 35839);
    assert.ok(Array.isArray(media.characters) || media.characters === null);
    const me = await anilist.user.getAuthorized();
    assert.equal(me.id, viewer);
    const lists = await anilist.lists.anime(viewer);
    assert.ok(Array.isArray(lists));
    const entries = lists.flatMap((l) => l.entries);
    assert.ok(entries.some((e) => e.media.id === 99426));
  });
}

// ---------------------------------------------------------------- main

async function main() {
  const exe = argument('--sandbox');
  const schemaPath = argument('--schema', path.join(__dirname, '..', 'fixtures', 'anilist', 'schema.graphql'));
  if (!exe) {
    console.error('usage: node check.js --sandbox PATH/cw-sandbox [--schema FILE]');
    process.exit(2);
  }
  const sandbox = await startSandbox(exe, ['trakt', 'tmdb', 'anilist']);
  try {
    await checkTrakt(sandbox);
    await checkTmdb(sandbox);
    await checkAnilist(sandbox, schemaPath);
  } finally {
    sandbox.proc.kill('SIGTERM');
  }
  console.log(`${results.passed} passed, ${results.failed} failed`);
  process.exit(results.failed ? 1 : 0);
}

main().catch((e) => {
  console.error(`client checks: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
