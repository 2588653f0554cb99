package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/bgdns/bgdns/control"
)

// readBody reads the whole request body, at most limit bytes; a larger
// body is a too_large error.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, &control.Error{Code: CodeTooLarge, Message: fmt.Sprintf("request body is larger than %d bytes", limit)}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, badRequest("reading request body: %v", err)
	}
	if int64(len(b)) > limit {
		return nil, &control.Error{Code: CodeTooLarge, Message: fmt.Sprintf("request body is larger than %d bytes", limit)}
	}
	if len(b) > 0 {
		if err := checkJSONContentType(r); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// checkJSONContentType refuses a write whose body is not declared JSON:
// a browser form cannot send application/json across origins without a
// preflight, so this closes the CSRF path.
func checkJSONContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return nil
	}
	if ct == "" {
		ct = "none"
	}
	return &control.Error{Code: CodeUnsupportedMedia,
		Message: fmt.Sprintf("a request body must be sent as Content-Type: application/json (got %s)", ct)}
}

// decodeStrict decodes one JSON value into v: unknown fields, wrong types
// and trailing data are bad requests. An empty body is a bad request when
// required, and leaves v alone otherwise.
func decodeStrict(b []byte, v any, required bool) error {
	if len(bytes.TrimSpace(b)) == 0 {
		if required {
			return badRequest("request body is required")
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid JSON body: %s", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("invalid JSON body: unexpected data after the JSON value")
	}
	return nil
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be %s, not %s", typ.Field, typ.Type, typ.Value)
		}
		return fmt.Sprintf("expected %s, not %s", typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	default:
		return err.Error()
	}
}

// writeJSON writes v with status. Encoding our own DTOs cannot fail.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"encoding the response failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
