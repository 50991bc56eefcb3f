/**
 * Defaults of CameraOptions that code above the camera layer shows or writes (the Node-RED
 * editor fields, settings.js), re-exported from the layer that applies them so that the
 * nodes need not reach into transport/.
 */
export { DEFAULT_UDP_PORT_RANGE } from '../rtp/port-range';
export { DEFAULT_MAX_FRAME as DEFAULT_MAX_FRAME_BYTES } from '../jpeg/depacketizer';
