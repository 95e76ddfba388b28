package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"
)

// Zendesk webhook signature headers.
const (
	headerSignature    = "X-Zendesk-Webhook-Signature"
	headerSignatureTS  = "X-Zendesk-Webhook-Signature-Timestamp"
	headerInvocationID = "X-Zendesk-Webhook-Invocation-Id"
)

// zendeskTestSecret is the static key Zendesk signs its "Test webhook"
// deliveries with, as its "Verifying webhook authenticity" page publishes
// it. Like WEBHOOK_SECRET it is used as the key string, not base64-decoded.
const zendeskTestSecret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="

var (
	errSignatureMissing = errors.New("missing signature headers")
	errSignatureStale   = errors.New("signature timestamp outside tolerance")
	errSignatureInvalid = errors.New("invalid signature")
)

// checkStamp is the part of the signature check that needs no body: both
// headers present, the timestamp within tolerance of now either way (so a
// captured request cannot be replayed later) and the signature well-formed.
// It runs before a byte of the body is read.
func checkStamp(sig, ts string, now time.Time, tolerance time.Duration) error {
	if sig == "" || ts == "" {
		return errSignatureMissing
	}
	at, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return errSignatureStale
	}
	if d := now.Sub(at); d > tolerance || d < -tolerance {
		return errSignatureStale
	}
	if given, err := base64.StdEncoding.DecodeString(sig); err != nil || len(given) != sha256.Size {
		return errSignatureInvalid
	}
	return nil
}

// signedWith reports whether sig is Zendesk's base64(HMAC-SHA256(secret,
// timestamp+body)), compared in constant time. checkStamp has run first.
func signedWith(secret, sig, ts string, body []byte) bool {
	given, err := base64.StdEncoding.DecodeString(sig)
	return err == nil && hmac.Equal(signature([]byte(secret), ts, body), given)
}

func signature(secret []byte, ts string, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write(body)
	return mac.Sum(nil)
}

// Sign returns the signature Zendesk would send for body at ts; used by the
// sample sender, the load generator and tests.
func Sign(secret, ts string, body []byte) string {
	return base64.StdEncoding.EncodeToString(signature([]byte(secret), ts, body))
}
