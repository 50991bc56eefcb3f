/**
 * The demo camera's ONVIF replies: the device service (ONVIF Core §8.3.6 GetSystemDateAndTime,
 * §8.1.2.2 GetServices, §8.1.2.4 GetCapabilities, §8.3.1 GetDeviceInformation, §8.3.14
 * GetScopes), the Media service (Media §5.2.2 GetProfiles, §5.2.3 GetProfile, GetVideoSources, §5.15.1
 * GetStreamUri, §5.16.1 GetSnapshotUri) and the event service (Core §9.1), written with the
 * customary prefixes declared on the Envelope, as most camera firmware does.
 */
import { escapeXml } from '../onvif/wire/xml';
import { SOAP12, TDS, TEV, TNS1, TRT, TT, WSA_2005, WSNT, WSRF_RW } from '../onvif/wire/namespaces';

export interface DemoProfile {
  token: string;
  name: string;
  encoding: 'JPEG' | 'H264';
  width: number;
  height: number;
  fps: number;
  streamUri: string;
  snapshotUri: string;
}

export interface DemoNotification {
  topic: string;
  source: Record<string, string>;
  data: Record<string, string>;
  operation: 'Initialized' | 'Changed' | 'Deleted';
  at: number;
}

const e = escapeXml;

export function envelope(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="${SOAP12}" xmlns:tt="${TT}" xmlns:tds="${TDS}" xmlns:trt="${TRT}" ` +
    `xmlns:tev="${TEV}" xmlns:wsnt="${WSNT}" xmlns:wsa="${WSA_2005}" xmlns:tns1="${TNS1}" xmlns:wsrf-rw="${WSRF_RW}" xmlns:ter="http://www.onvif.org/ver10/error">` +
    `<env:Body>${body}</env:Body></env:Envelope>`;
}

export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function systemDateAndTime(ms: number): string {
  const d = new Date(ms);
  return `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>` +
    `<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime><tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute>` +
    `<tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month>` +
    `<tt:Day>${d.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`;
}

export function services(base: string): string {
  const svc = (ns: string, path: string): string => `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${e(base + path)}</tds:XAddr>` +
    `<tds:Version><tt:Major>2</tt:Major><tt:Minor>40</tt:Minor></tds:Version></tds:Service>`;
  return `<tds:GetServicesResponse>${svc(TDS, '/onvif/device_service')}${svc(TRT, '/onvif/media_service')}${svc(TEV, '/onvif/events_service')}</tds:GetServicesResponse>`;
}

export function capabilities(base: string): string {
  return `<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Device><tt:XAddr>${e(`${base}/onvif/device_service`)}</tt:XAddr></tt:Device>` +
    `<tt:Events><tt:XAddr>${e(`${base}/onvif/events_service`)}</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>` +
    `<tt:WSPullPointSupport>true</tt:WSPullPointSupport><tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>` +
    `<tt:Media><tt:XAddr>${e(`${base}/onvif/media_service`)}</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>` +
    `<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>`;
}

export function deviceInformation(serial: string): string {
  return '<tds:GetDeviceInformationResponse><tds:Manufacturer>node-red-contrib-rtsp-mjpeg</tds:Manufacturer><tds:Model>demo camera</tds:Model>' +
    `<tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>${e(serial)}</tds:SerialNumber><tds:HardwareId>demo</tds:HardwareId></tds:GetDeviceInformationResponse>`;
}

export function scopes(list: string[]): string {
  return `<tds:GetScopesResponse>${list.map((s) => `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${e(s)}</tt:ScopeItem></tds:Scopes>`).join('')}</tds:GetScopesResponse>`;
}

export function hostname(name: string): string {
  return `<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP><tt:Name>${e(name)}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>`;
}

/** GetProfilesResponse (Media §5.2.2), or with `single` the GetProfileResponse of that profile (§5.2.3) */
export function profiles(list: DemoProfile[], sourceW: number, sourceH: number, single?: DemoProfile): string {
  const el = single ? 'Profile' : 'Profiles';
  const one = (p: DemoProfile): string => `<trt:${el} token="${e(p.token)}" fixed="true"><tt:Name>${e(p.name)}</tt:Name>` +
    `<tt:VideoSourceConfiguration token="vsc0"><tt:Name>video source</tt:Name><tt:UseCount>${list.length}</tt:UseCount><tt:SourceToken>vs0</tt:SourceToken>` +
    `<tt:Bounds x="0" y="0" width="${sourceW}" height="${sourceH}"/></tt:VideoSourceConfiguration>` +
    `<tt:VideoEncoderConfiguration token="vec_${e(p.token)}"><tt:Name>${e(p.name)}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>${p.encoding}</tt:Encoding>` +
    `<tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>` +
    `<tt:RateControl><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl>` +
    `<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration></trt:${el}>`;
  if (single) return `<trt:GetProfileResponse>${one(single)}</trt:GetProfileResponse>`;
  return `<trt:GetProfilesResponse>${list.map(one).join('')}</trt:GetProfilesResponse>`;
}

export function videoSources(w: number, h: number, fps: number): string {
  return `<trt:GetVideoSourcesResponse><trt:VideoSources token="vs0"><tt:Framerate>${fps}</tt:Framerate>` +
    `<tt:Resolution><tt:Width>${w}</tt:Width><tt:Height>${h}</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`;
}

export function mediaUri(op: 'GetStreamUriResponse' | 'GetSnapshotUriResponse', uri: string): string {
  return `<trt:${op}><trt:MediaUri><tt:Uri>${e(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
    `<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:${op}>`;
}

export function subscriptionCreated(address: string, now: number, termination: number): string {
  return `<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa:Address>${e(address)}</wsa:Address></tev:SubscriptionReference>` +
    `<wsnt:CurrentTime>${isoSeconds(now)}</wsnt:CurrentTime><wsnt:TerminationTime>${isoSeconds(termination)}</wsnt:TerminationTime></tev:CreatePullPointSubscriptionResponse>`;
}

function notification(n: DemoNotification): string {
  const items = (o: Record<string, string>): string => Object.entries(o).map(([k, v]) => `<tt:SimpleItem Name="${e(k)}" Value="${e(v)}"/>`).join('');
  return `<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${e(n.topic)}</wsnt:Topic>` +
    `<wsnt:Message><tt:Message UtcTime="${new Date(n.at).toISOString()}" PropertyOperation="${n.operation}"><tt:Source>${items(n.source)}</tt:Source>` +
    `<tt:Data>${items(n.data)}</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>`;
}

export function pulled(now: number, termination: number, list: DemoNotification[]): string {
  return `<tev:PullMessagesResponse><tev:CurrentTime>${isoSeconds(now)}</tev:CurrentTime><tev:TerminationTime>${isoSeconds(termination)}</tev:TerminationTime>` +
    `${list.map(notification).join('')}</tev:PullMessagesResponse>`;
}

export function renewed(now: number, termination: number): string {
  return `<wsnt:RenewResponse><wsnt:TerminationTime>${isoSeconds(termination)}</wsnt:TerminationTime><wsnt:CurrentTime>${isoSeconds(now)}</wsnt:CurrentTime></wsnt:RenewResponse>`;
}

export const unsubscribed = (): string => '<wsnt:UnsubscribeResponse/>';

export function eventProperties(): string {
  return '<tev:GetEventPropertiesResponse><tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>' +
    '<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet><tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>' +
    '</tev:GetEventPropertiesResponse>';
}

/** A fault body (ONVIF Core §5.8.2); `detail` is written into Detail as is. */
export function faultBody(code: 'Sender' | 'Receiver', subcodes: string[], reason: string, detail = ''): string {
  let sub = '';
  for (const s of [...subcodes].reverse()) sub = `<env:Subcode><env:Value>${s}</env:Value>${sub}</env:Subcode>`;
  return `<env:Fault><env:Code><env:Value>env:${code}</env:Value>${sub}</env:Code><env:Reason><env:Text xml:lang="en">${e(reason)}</env:Text></env:Reason>` +
    `${detail ? `<env:Detail>${detail}</env:Detail>` : ''}</env:Fault>`;
}
