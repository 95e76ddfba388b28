package jobs

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Cursor is a keyset position in the newest-first job list: the last row
// seen. A page continues strictly after it, so rows inserted meanwhile
// neither repeat nor shift rows that were not yet seen.
type Cursor struct {
	ReceivedAt time.Time
	ID         uint64
}

const (
	cursorPayload = 16 // received_at (µs) + id
	cursorCheck   = 6
	cursorDomain  = "creditor-matcher/jobs-cursor/v1"
)

// Encode returns the opaque cursor text: base64url of the position plus a
// checksum, so an edited cursor is refused rather than silently skipping rows.
// The checksum is integrity, not secrecy: a cursor only names a position.
func (c Cursor) Encode() string {
	b := make([]byte, cursorPayload, cursorPayload+cursorCheck)
	binary.BigEndian.PutUint64(b[0:8], uint64(c.ReceivedAt.UnixMicro()))
	binary.BigEndian.PutUint64(b[8:16], c.ID)
	b = append(b, cursorSum(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a cursor made by Encode; anything else is EINVALID.
func DecodeCursor(s string) (Cursor, error) {
	bad := &models.Error{Code: models.EINVALID, Message: "invalid cursor", Fields: map[string]string{"cursor": "is not a cursor this service issued"}}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != cursorPayload+cursorCheck {
		return Cursor{}, bad
	}
	if subtle.ConstantTimeCompare(cursorSum(b[:cursorPayload]), b[cursorPayload:]) != 1 {
		return Cursor{}, bad
	}
	c := Cursor{
		ReceivedAt: time.UnixMicro(int64(binary.BigEndian.Uint64(b[0:8]))).UTC(),
		ID:         binary.BigEndian.Uint64(b[8:16]),
	}
	if c.ID == 0 {
		return Cursor{}, bad
	}
	return c, nil
}

func cursorSum(payload []byte) []byte {
	h := sha256.New()
	h.Write([]byte(cursorDomain))
	h.Write(payload)
	return h.Sum(nil)[:cursorCheck]
}
