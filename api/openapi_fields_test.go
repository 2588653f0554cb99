package api

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/bgdns/bgdns/api/openapi"
	"github.com/bgdns/bgdns/buildinfo"
	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
)

// jsonFields returns the JSON names of t's fields, embedded structs
// flattened as encoding/json does.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			out = append(out, jsonFields(ft)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// schemaProperties returns the property names of s, its allOf parts
// included.
func schemaProperties(s *openapi3.Schema) []string {
	var out []string
	for n := range s.Properties {
		out = append(out, n)
	}
	for _, part := range s.AllOf {
		out = append(out, schemaProperties(part.Value)...)
	}
	return out
}

// TestOpenAPISchemasMatchTypes compares the properties of the document's
// schemas with the JSON fields of the Go types the API reads and writes:
// a field added to a type (or dropped from it) without the same change to
// its schema in api/openapi fails, naming both.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	b, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]any{
		"Service":          Service{},
		"ServicePut":       ServicePut{},
		"Pool":             Pool{},
		"HealthCheck":      HealthCheck{},
		"Validation":       Validation{},
		"ColourHealth":     ColourHealth{},
		"AddrHealth":       AddrHealth{},
		"Retire":           Retire{},
		"ServiceSafety":    ServiceSafety{},
		"RequestMeta":      RequestMeta{},
		"ActionRequest":    ActionRequest{},
		"DeployRequest":    DeployRequest{},
		"SwitchRequest":    SwitchRequest{},
		"Zone":             Zone{},
		"ZonePut":          ZonePut{},
		"SOA":              SOA{},
		"Mutation":         Mutation{},
		"WaitResult":       WaitResult{},
		"NodeStatus":       peer.NodeStatus{},
		"JoinRequest":      peer.JoinRequest{},
		"MembershipChange": MembershipChange{},
		"Record":           control.Record{},
		"Event":            Event{},
		"EventList":        EventList{},
		"Health":           Health{},
		"TokenCreate":      TokenCreate{},
		"TokenInfo":        TokenInfo{},
		"TokenChange":      TokenChange{},
		"Version":          buildinfo.Info{},
	}
	names := make([]string, 0, len(types))
	for n := range types {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		typ := reflect.TypeOf(types[name])
		ref := doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			t.Errorf("the document has no schema %s for %s", name, typ)
			continue
		}
		fields := jsonFields(typ)
		props := schemaProperties(ref.Value)
		for _, f := range fields {
			if !slices.Contains(props, f) {
				t.Errorf("%s has the JSON field %q, which schema %s in api/openapi does not describe", typ, f, name)
			}
		}
		for _, p := range props {
			if !slices.Contains(fields, p) {
				t.Errorf("schema %s in api/openapi describes %q, which %s does not have", name, p, typ)
			}
		}
	}
	// The comparison itself notices a missing property.
	if !slices.Contains(jsonFields(reflect.TypeOf(Service{})), "health_check") {
		t.Error("jsonFields does not flatten embedded structs")
	}
}
