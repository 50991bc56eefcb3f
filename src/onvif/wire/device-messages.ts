/**
 * The device management service calls a client needs to find a camera's media (ONVIF Core §8):
 * GetSystemDateAndTime (§8.3.6, PRE_AUTH: the clock offset for WS-Security), GetServices
 * (§8.1.2.2) or, on older devices, GetCapabilities (§8.1.2.4) for the service addresses, and
 * GetDeviceInformation (§8.3.1). Request bodies, and readers for the response element (the
 * first child of the SOAP Body).
 */
import { TDS, TEV, TR2, TRT, TT } from './namespaces';
import { child, children, textAt, type XmlElement } from './xml';

export const ACTIONS = {
  getSystemDateAndTime: `${TDS}/GetSystemDateAndTime`,
  getServices: `${TDS}/GetServices`,
  getCapabilities: `${TDS}/GetCapabilities`,
  getDeviceInformation: `${TDS}/GetDeviceInformation`,
} as const;

export const getSystemDateAndTimeBody = (): string => `<tds:GetSystemDateAndTime xmlns:tds="${TDS}"/>`;
export const getServicesBody = (): string => `<tds:GetServices xmlns:tds="${TDS}"><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>`;
export const getCapabilitiesBody = (): string => `<tds:GetCapabilities xmlns:tds="${TDS}"><tds:Category>All</tds:Category></tds:GetCapabilities>`;
export const getDeviceInformationBody = (): string => `<tds:GetDeviceInformation xmlns:tds="${TDS}"/>`;

function int(el: XmlElement | undefined, name: string): number {
  const t = child(el, TT, name)?.text;
  return t !== undefined && /^\d{1,4}$/.test(t) ? Number(t) : NaN;
}

/** tt:DateTime (Date{Year,Month,Day} Time{Hour,Minute,Second}) as ms since epoch, or null. */
export function parseTtDateTime(el: XmlElement | undefined): number | null {
  const date = child(el, TT, 'Date');
  const time = child(el, TT, 'Time');
  if (!date || !time) return null;
  const [y, mo, d, h, mi, s] = [int(date, 'Year'), int(date, 'Month'), int(date, 'Day'), int(time, 'Hour'), int(time, 'Minute'), int(time, 'Second')];
  if (![y, mo, d, h, mi, s].every(Number.isFinite)) return null;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || s > 61) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isFinite(ms) ? ms : null;
}

/** The device's UTC clock from a GetSystemDateAndTimeResponse, or null when it gave none. */
export function parseSystemDateAndTime(res: XmlElement | undefined): number | null {
  const sdt = child(res, TDS, 'SystemDateAndTime');
  return parseTtDateTime(child(sdt, TT, 'UTCDateTime'));
}

export interface ServiceAddresses {
  device: string | null;
  media: string | null;
  media2: string | null;
  events: string | null;
}

const httpUrl = (s: string | undefined): string | null => (s && /^https?:\/\/\S+$/i.test(s) && s.length <= 2048 ? s : null);

/** Service addresses from a GetServicesResponse (§8.1.2.2), by service namespace. */
export function parseServices(res: XmlElement | undefined): ServiceAddresses {
  const out: ServiceAddresses = { device: null, media: null, media2: null, events: null };
  for (const s of children(res, TDS, 'Service').slice(0, 256)) {
    const ns = child(s, TDS, 'Namespace')?.text;
    const xaddr = httpUrl(child(s, TDS, 'XAddr')?.text);
    if (!xaddr) continue;
    if (ns === TDS) out.device ??= xaddr;
    else if (ns === TRT) out.media ??= xaddr;
    else if (ns === TR2) out.media2 ??= xaddr;
    else if (ns === TEV) out.events ??= xaddr;
  }
  return out;
}

/** Service addresses from a GetCapabilitiesResponse (§8.1.2.4); Media 2 is not listed there. */
export function parseCapabilities(res: XmlElement | undefined): ServiceAddresses {
  const caps = child(res, TDS, 'Capabilities');
  return {
    device: httpUrl(textAt(caps, [TT, 'Device'], [TT, 'XAddr'])),
    media: httpUrl(textAt(caps, [TT, 'Media'], [TT, 'XAddr'])),
    media2: null,
    events: httpUrl(textAt(caps, [TT, 'Events'], [TT, 'XAddr'])),
  };
}

export interface DeviceInformation {
  manufacturer: string;
  model: string;
  firmware: string;
  serial: string;
  hardwareId: string;
}

/** GetDeviceInformationResponse (§8.3.1). */
export function parseDeviceInformation(res: XmlElement | undefined): DeviceInformation {
  const t = (n: string): string => (child(res, TDS, n)?.text ?? '').slice(0, 256);
  return { manufacturer: t('Manufacturer'), model: t('Model'), firmware: t('FirmwareVersion'), serial: t('SerialNumber'), hardwareId: t('HardwareId') };
}
