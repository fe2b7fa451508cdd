package endpoint

import "errors"

// Errors returned by the endpoint. Compare with errors.Is.
var (
	ErrConfig         = errors.New("coap/endpoint: invalid config")
	ErrClosed         = errors.New("coap/endpoint: endpoint closed")
	ErrTimeout        = errors.New("coap/endpoint: no response (retransmissions exhausted or response timeout)")
	ErrReset          = errors.New("coap/endpoint: peer answered with Reset")
	ErrBodyTooLarge   = errors.New("coap/endpoint: body exceeds MaxBodySize")
	ErrBlockwise      = errors.New("coap/endpoint: block-wise transfer failed")
	ErrETagMismatch   = errors.New("coap/endpoint: representation changed during block-wise transfer (ETag)")
	ErrNotObservable  = errors.New("coap/endpoint: server did not accept the observation")
	ErrBadRequest     = errors.New("coap/endpoint: invalid request message")
	ErrObservationEnd = errors.New("coap/endpoint: observation ended")
)
