// What `npm start` does with the flow in the user directory. A flow the user has is never
// replaced without RESET_FLOWS=1: the demo flow goes in only when there is no flow yet.
// With a kept flow, RTSP_URL (and a demo camera on another port) retarget the camera node
// in place, so every other tab stays as it was. Pure functions over flow arrays (the admin
// API's v1 format); scripts/start.mjs does the HTTP.

/** the demo flow's camera config node; the examples share this id */
export const DEMO_CAMERA_ID = 'demo-cam';

/** a URL of the built-in demo camera as `npm start` runs it (127.0.0.1, path /demo) */
const DEMO_URL = /^rtsp:\/\/127\.0\.0\.1:\d+\/demo$/;
/** the demo camera's ONVIF device service */
const DEMO_ONVIF = /^http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service$/;
const isDemoOnvif = (v) => typeof v === 'string' && DEMO_ONVIF.test(v);

/** Splits `rtsp://user:pass@host/...` into a clean URL and percent-decoded credentials. */
export function splitCredentials(url, env = {}) {
  const m = /^((?:rtsps?|https?):\/\/)([^/?#]*@)?(.*)$/i.exec(url);
  if (!m || !m[2]) return { url, username: env.RTSP_USERNAME || '', password: env.RTSP_PASSWORD || '' };
  const userinfo = m[2].slice(0, -1);
  const i = userinfo.indexOf(':');
  const dec = (s) => { try { return decodeURIComponent(s); } catch { return s; } };
  return { url: m[1] + m[3], username: dec(i < 0 ? userinfo : userinfo.slice(0, i)), password: dec(i < 0 ? '' : userinfo.slice(i + 1)) };
}

/** no flow yet: nothing but (empty) tabs */
export function isEmptyFlow(flow) {
  return !Array.isArray(flow) || flow.every((n) => n.type === 'tab');
}

function describe(flow) {
  const tabs = flow.filter((n) => n.type === 'tab').length;
  const nodes = flow.filter((n) => n.type !== 'tab').length;
  return `${tabs} tab${tabs === 1 ? '' : 's'}, ${nodes} node${nodes === 1 ? '' : 's'}`;
}

/**
 * @param {object[]} current the deployed flow (admin API v1)
 * @param {object[]} demo the demo flow (scripts/demo/flow.json)
 * @param {{ reset?: boolean, camera?: { url: string, username: string, password: string },
 *           transport?: string, demoUrl?: string, demoOnvifUrl?: string }} o `camera` when RTSP_URL
 *           is set, `demoUrl` (and the address of its ONVIF service) when the demo camera runs
 * @returns {{ deploy: object[] | null, notes: string[] }} the flow to deploy (null: leave it)
 */
export function planFlow(current, demo, o) {
  const notes = [];
  if (o.reset || isEmptyFlow(current)) {
    const flow = JSON.parse(JSON.stringify(demo));
    for (const n of flow) {
      if (n.type !== 'rtsp-camera') continue;
      if (o.camera) {
        n.url = o.camera.url;
        n.name = 'my camera';
        if (isDemoOnvif(n.onvif)) n.onvif = '';
        if (o.camera.username || o.camera.password) n.credentials = { username: o.camera.username, password: o.camera.password };
      } else if (o.demoUrl) {
        n.url = o.demoUrl;
        if (o.demoOnvifUrl && isDemoOnvif(n.onvif)) n.onvif = o.demoOnvifUrl;
      }
      if (o.transport) n.transport = o.transport;
    }
    notes.push(o.reset && !isEmptyFlow(current) ? `RESET_FLOWS=1: the demo flow replaced the flow (${describe(current)})` : 'demo flow deployed');
    return { deploy: flow, notes };
  }

  const flow = JSON.parse(JSON.stringify(current));
  const cameras = flow.filter((n) => n.type === 'rtsp-camera');
  let changed = false;
  notes.push(`kept your flow (${describe(current)}); RESET_FLOWS=1 npm start replaces it with the demo flow`);
  if (o.camera) {
    // the demo camera node (shared by the demo flow and the examples), else the only camera
    const target = cameras.find((n) => n.id === DEMO_CAMERA_ID) ?? (cameras.length === 1 ? cameras[0] : undefined);
    if (!target) {
      notes.push(cameras.length === 0
        ? 'RTSP_URL not applied: the flow has no camera node; add one in the editor, or RESET_FLOWS=1 npm start for the demo flow'
        : `RTSP_URL not applied: the flow has ${cameras.length} cameras and none is the demo camera; paste the URL into the camera you mean in the editor`);
    } else {
      if (target.url !== o.camera.url) { target.url = o.camera.url; changed = true; }
      // the demo camera's ONVIF address does not describe the new camera
      if (isDemoOnvif(target.onvif)) { target.onvif = ''; changed = true; }
      if (o.camera.username || o.camera.password) {
        target.credentials = { username: o.camera.username, password: o.camera.password };
        changed = true;
      }
      if (o.transport && target.transport !== o.transport) { target.transport = o.transport; changed = true; }
      if (changed) notes.push(`camera "${target.name || target.id}" now uses ${o.camera.url}${o.transport ? ` over ${o.transport}` : ''}`);
    }
  } else if (o.demoUrl) {
    // the demo camera listens on another port than last time (DEMO_CAMERA_PORT): follow it
    if (!cameras.some((c) => typeof c.url === 'string' && DEMO_URL.test(c.url))) {
      notes.push(`no camera of your flow uses the demo camera at ${o.demoUrl}`);
    }
    for (const c of cameras) {
      if (typeof c.url !== 'string' || !DEMO_URL.test(c.url)) continue;
      if (c.url !== o.demoUrl) {
        notes.push(`camera "${c.name || c.id}" now uses ${o.demoUrl} (it used ${c.url})`);
        c.url = o.demoUrl;
        changed = true;
      }
      if (o.demoOnvifUrl && isDemoOnvif(c.onvif) && c.onvif !== o.demoOnvifUrl) {
        c.onvif = o.demoOnvifUrl;
        changed = true;
      }
    }
    if (o.transport) {
      const target = cameras.find((n) => n.id === DEMO_CAMERA_ID);
      if (target && target.transport !== o.transport) { target.transport = o.transport; changed = true; }
    }
  }
  return { deploy: changed ? flow : null, notes };
}

/** paths of the flow's live views (`mjpeg http out` nodes with a path) */
export function liveViewPaths(flow) {
  return flow.filter((n) => n.type === 'mjpeg http out' && typeof n.path === 'string' && n.path.startsWith('/') && !n.d).map((n) => n.path);
}
