/**
 * XML namespace URIs of the messages ONVIF devices exchange. Elements are matched by local
 * name AND namespace URI, never by prefix: vendors bind these URIs to prefixes of their own
 * choosing (env, s, SOAP-ENV, ns1, a default namespace, ...), as XML Namespaces 1.0 §3 allows.
 */

/** SOAP 1.2 envelope (SOAP 1.2 Part 1 §5), the binding ONVIF uses (ONVIF Core §5.1.2) */
export const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
/** SOAP 1.1 envelope: some old devices answer WS-Discovery in it */
export const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
/** WS-Addressing as WS-Discovery 2005/04 uses it */
export const WSA_2004 = 'http://schemas.xmlsoap.org/ws/2004/08/addressing';
/** WS-Addressing 1.0, as WS-BaseNotification and the ONVIF event service use it */
export const WSA_2005 = 'http://www.w3.org/2005/08/addressing';
/** WS-Discovery (April 2005), the version ONVIF Core §7 refers to */
export const WSD = 'http://schemas.xmlsoap.org/ws/2005/04/discovery';
/** OASIS WS-Security 1.0 extension and utility namespaces (UsernameToken Profile 1.0) */
export const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
export const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
export const WSSE_PASSWORD_DIGEST = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
export const WSSE_BASE64 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';
/** ONVIF schema, device, media, media 2, events, topics, errors, network (discovery types) */
export const TT = 'http://www.onvif.org/ver10/schema';
export const TDS = 'http://www.onvif.org/ver10/device/wsdl';
export const TRT = 'http://www.onvif.org/ver10/media/wsdl';
export const TR2 = 'http://www.onvif.org/ver20/media/wsdl';
export const TEV = 'http://www.onvif.org/ver10/events/wsdl';
export const TNS1 = 'http://www.onvif.org/ver10/topics';
export const TER = 'http://www.onvif.org/ver10/error';
export const DN = 'http://www.onvif.org/ver10/network/wsdl';
/** OASIS WS-BaseNotification 1.3 and WS-ResourceFramework faults */
export const WSNT = 'http://docs.oasis-open.org/wsn/b-2';
export const WSRF_RW = 'http://docs.oasis-open.org/wsrf/rw-2';
