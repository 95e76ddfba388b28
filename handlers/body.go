package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// readBody reads a request body of at most limit bytes: ETOOLARGE beyond
// it, EINVALID when the read fails. Shared by every handler taking a body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, models.Errorf(models.ETOOLARGE, "body exceeds %d bytes", limit)
		}
		return nil, models.Errorf(models.EINVALID, "could not read body")
	}
	return body, nil
}

// jsonProblem describes a JSON error without echoing the body.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("syntax error at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		if e.Field != "" {
			return fmt.Sprintf("field %s has the wrong type", e.Field)
		}
		return "expected an object"
	}
	return "malformed JSON"
}
