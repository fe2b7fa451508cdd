package coap

import "strconv"

// MediaType is a CoAP Content-Format number (RFC 7252 §12.3, IANA "CoAP
// Content-Formats"), carried in the Content-Format and Accept options.
type MediaType uint16

// Registered content formats.
const (
	TextPlain          MediaType = 0   // text/plain; charset=utf-8
	AppCOSEEncrypt0    MediaType = 16  // application/cose; cose-type="cose-encrypt0"
	AppCOSEMac0        MediaType = 17  // application/cose; cose-type="cose-mac0"
	AppCOSESign1       MediaType = 18  // application/cose; cose-type="cose-sign1"
	AppACECBOR         MediaType = 19  // application/ace+cbor
	ImageGIF           MediaType = 21  // image/gif
	ImageJPEG          MediaType = 22  // image/jpeg
	ImagePNG           MediaType = 23  // image/png
	AppLinkFormat      MediaType = 40  // application/link-format (RFC 6690)
	AppXML             MediaType = 41  // application/xml
	AppOctetStream     MediaType = 42  // application/octet-stream
	AppEXI             MediaType = 47  // application/exi
	AppJSON            MediaType = 50  // application/json
	AppJSONPatch       MediaType = 51  // application/json-patch+json
	AppMergePatch      MediaType = 52  // application/merge-patch+json
	AppCBOR            MediaType = 60  // application/cbor (RFC 8949)
	AppCWT             MediaType = 61  // application/cwt
	AppMultipartCore   MediaType = 62  // application/multipart-core
	AppCBORSeq         MediaType = 63  // application/cbor-seq
	AppLinkFormatCBOR  MediaType = 64  // application/link-format+cbor
	AppCOSEEncrypt     MediaType = 96  // application/cose; cose-type="cose-encrypt"
	AppCOSEMac         MediaType = 97  // application/cose; cose-type="cose-mac"
	AppCOSESign        MediaType = 98  // application/cose; cose-type="cose-sign"
	AppCOSEKey         MediaType = 101 // application/cose-key
	AppCOSEKeySet      MediaType = 102 // application/cose-key-set
	AppSenMLJSON       MediaType = 110 // application/senml+json (RFC 8428)
	AppSensMLJSON      MediaType = 111 // application/sensml+json
	AppSenMLCBOR       MediaType = 112 // application/senml+cbor
	AppSensMLCBOR      MediaType = 113 // application/sensml+cbor
	AppSenMLEXI        MediaType = 114 // application/senml-exi
	AppSensMLEXI       MediaType = 115 // application/sensml-exi
	AppYANGDataCBOR    MediaType = 140 // application/yang-data+cbor; id=sid
	AppCoAPGroupJSON   MediaType = 256 // application/coap-group+json
	AppPKCS7Server     MediaType = 280 // application/pkcs7-mime; smime-type=server-generated-key
	AppPKCS7Certs      MediaType = 281 // application/pkcs7-mime; smime-type=certs-only
	AppPKCS8           MediaType = 284 // application/pkcs8
	AppCSRAttrs        MediaType = 285 // application/csrattrs
	AppPKCS10          MediaType = 286 // application/pkcs10
	AppPKIXCert        MediaType = 287 // application/pkix-cert
	AppSenMLXML        MediaType = 310 // application/senml+xml
	AppSensMLXML       MediaType = 311 // application/sensml+xml
	AppSenMLETCHJSON   MediaType = 320 // application/senml-etch+json (RFC 8790)
	AppSenMLETCHCBOR   MediaType = 322 // application/senml-etch+cbor
	AppTDJSON          MediaType = 432 // application/td+json
	AppVNDOCFCBOR      MediaType = 10000
	AppOSCORE          MediaType = 10001 // application/oscore
	AppJavascript      MediaType = 10002 // application/javascript
	AppVNDOMALWM2MTLV  MediaType = 11542
	AppVNDOMALWM2MJSON MediaType = 11543
	AppVNDOMALWM2MCBOR MediaType = 11544
	TextCSS            MediaType = 20000 // text/css
	ImageSVGXML        MediaType = 30000 // image/svg+xml
)

// String returns the media type name, or the number for an unlisted one.
func (t MediaType) String() string {
	switch t {
	case TextPlain:
		return "text/plain;charset=utf-8"
	case AppLinkFormat:
		return "application/link-format"
	case AppXML:
		return "application/xml"
	case AppOctetStream:
		return "application/octet-stream"
	case AppEXI:
		return "application/exi"
	case AppJSON:
		return "application/json"
	case AppCBOR:
		return "application/cbor"
	case AppCBORSeq:
		return "application/cbor-seq"
	case AppSenMLJSON:
		return "application/senml+json"
	case AppSensMLJSON:
		return "application/sensml+json"
	case AppSenMLCBOR:
		return "application/senml+cbor"
	case AppSensMLCBOR:
		return "application/sensml+cbor"
	case AppSenMLEXI:
		return "application/senml-exi"
	case AppSensMLEXI:
		return "application/sensml-exi"
	case AppSenMLXML:
		return "application/senml+xml"
	case AppSensMLXML:
		return "application/sensml+xml"
	}
	return "MediaType(" + strconv.Itoa(int(t)) + ")"
}
