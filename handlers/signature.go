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

var (
	errSignatureMissing = errors.New("missing signature headers")
	errSignatureStale   = errors.New("signature timestamp outside tolerance")
	errSignatureInvalid = errors.New("invalid signature")
)

// verifySignature checks Zendesk's base64(HMAC-SHA256(secret, timestamp+body))
// in constant time, and that the timestamp is within tolerance of now either
// way, so a captured request cannot be replayed later.
func verifySignature(secret []byte, sig, ts string, body []byte, now time.Time, tolerance time.Duration) error {
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
	given, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return errSignatureInvalid
	}
	if !hmac.Equal(signature(secret, ts, body), given) {
		return errSignatureInvalid
	}
	return nil
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
