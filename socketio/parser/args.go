package parser

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
)

// Args splits a decoded Event or Ack payload (a JSON array) into its
// elements without decoding them. The elements alias raw (with their
// capacity clipped, so appending to one cannot overwrite the next).
func Args(raw json.RawMessage) ([]json.RawMessage, error) {
	if !json.Valid(raw) {
		return nil, &Error{Op: "args", Err: ErrInvalidJSON}
	}
	s := scanner{data: raw}
	s.skipSpace()
	if raw[s.pos] != '[' {
		return nil, &Error{Op: "args", Err: ErrInvalidPayload, Detail: "not a JSON array"}
	}
	s.pos++
	s.skipSpace()
	if raw[s.pos] == ']' {
		return []json.RawMessage{}, nil
	}
	args := make([]json.RawMessage, 0, 4)
	for {
		start, end, err := s.value()
		if err != nil {
			return nil, err
		}
		args = append(args, raw[start:end:end])
		s.skipSpace()
		if s.pos >= len(raw) || raw[s.pos] != ',' {
			return args, nil // valid JSON: this is the closing bracket
		}
		s.pos++
	}
}

// Unmarshal decodes the JSON value raw into v, as json.Unmarshal does,
// putting back the binary attachments its placeholders refer to: into a
// []byte target (at any depth: a struct field, a [][]byte element, ...) go
// the attachment's bytes, and into an interface target (any, []any
// elements, map[string]any values, an `any` struct field) goes a []byte
// rather than the placeholder object. Numbers decoded into interfaces are
// float64, as with encoding/json. A placeholder whose num is not one of
// attachments is an error.
//
// Without attachments raw is decoded as is: placeholders only have a
// meaning in binary packets.
//
// How: placeholders are rewritten to base64 strings, which encoding/json
// decodes into []byte targets itself, leaving field matching, custom
// unmarshalers and every other rule to it. An interface target would get
// the base64 string instead, so when v's type can hold interfaces the
// document is decoded a second time into a private shadow value, with
// placeholders rewritten to unforgeable marker strings; wherever the shadow
// holds a marker in an interface, v gets the attachment.
func Unmarshal(raw json.RawMessage, attachments [][]byte, v any) error {
	if len(attachments) == 0 || !json.Valid(raw) {
		return json.Unmarshal(raw, v) // also reports syntax errors
	}
	phs, err := findPlaceholders(raw, len(attachments))
	if err != nil {
		if e, ok := err.(*Error); ok {
			c := *e
			c.Op = "unmarshal"
			return &c
		}
		return err
	}
	if len(phs) == 0 {
		return json.Unmarshal(raw, v)
	}

	// The most common dynamic target: decode the tree and swap placeholder
	// maps in place. (A *any holding a non-nil pointer is decoded into the
	// pointee by encoding/json, so it takes the general path.)
	if p, ok := v.(*any); ok && p != nil && (*p == nil || reflect.TypeOf(*p).Kind() != reflect.Pointer) {
		var tree any
		if err := json.Unmarshal(raw, &tree); err != nil {
			return err
		}
		*p = resolveTree(tree, attachments)
		return nil
	}

	withBytes := replacePlaceholders(raw, phs, func(dst []byte, p placeholder) []byte {
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, attachments[p.num])
		return append(dst, '"')
	})
	if err := json.Unmarshal(withBytes, v); err != nil {
		return err
	}
	rv := reflect.ValueOf(v) // a non-nil pointer, or json.Unmarshal failed
	if !mayHoldInterface.reaches(rv.Type().Elem()) {
		return nil
	}
	withMarkers := replacePlaceholders(raw, phs, func(dst []byte, p placeholder) []byte {
		dst = append(dst, '"')
		dst = append(dst, decodeMarkers.string(p.num)...)
		return append(dst, '"')
	})
	shadow := reflect.New(rv.Type().Elem())
	// Same document shape as above, so this decodes as the first pass did;
	// an error here could only come from a custom unmarshaler rejecting a
	// marker, and then the interfaces it did reach are still resolved.
	_ = json.Unmarshal(withMarkers, shadow.Interface())
	r := resolver{atts: attachments}
	r.walk(shadow.Elem(), rv.Elem(), 0)
	return nil
}

// resolveTree replaces placeholder maps in a tree decoded into an any.
func resolveTree(v any, atts [][]byte) any {
	switch x := v.(type) {
	case map[string]any:
		if ph, _ := x["_placeholder"].(bool); ph {
			// findPlaceholders validated num already.
			if f, ok := x["num"].(float64); ok && f >= 0 && int(f) < len(atts) {
				return atts[int(f)]
			}
			return x
		}
		for k, e := range x {
			x[k] = resolveTree(e, atts)
		}
	case []any:
		for i, e := range x {
			x[i] = resolveTree(e, atts)
		}
	}
	return v
}

var bytesType = reflect.TypeFor[[]byte]()

// resolver walks the shadow value (src) and the caller's value (dst) side
// by side. Both were decoded from the same document, so they have the same
// shape; every step still checks, as dst may have held data before.
type resolver struct {
	atts [][]byte
}

func (r *resolver) walk(src, dst reflect.Value, depth int) {
	if depth > maxValueDepth || !src.IsValid() || !dst.IsValid() || src.Type() != dst.Type() {
		return
	}
	switch src.Kind() {
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		e := src.Elem()
		if e.Kind() == reflect.String {
			n, ok := decodeMarkers.parse(e.String())
			if ok && n < len(r.atts) && dst.CanSet() && bytesType.AssignableTo(dst.Type()) &&
				(dst.IsNil() || dst.Elem().Kind() == reflect.String) {
				dst.Set(reflect.ValueOf(r.atts[n]))
			}
			return
		}
		if !dst.IsNil() {
			r.walk(e, dst.Elem(), depth+1)
		}
	case reflect.Pointer:
		if !src.IsNil() && !dst.IsNil() {
			r.walk(src.Elem(), dst.Elem(), depth+1)
		}
	case reflect.Slice, reflect.Array:
		t := src.Type()
		if isBytes(t) || !mayHoldInterface.reaches(t.Elem()) {
			return
		}
		for i := range min(src.Len(), dst.Len()) {
			r.walk(src.Index(i), dst.Index(i), depth+1)
		}
	case reflect.Map:
		elem := src.Type().Elem()
		if dst.IsNil() || !dst.CanInterface() || !mayHoldInterface.reaches(elem) {
			return
		}
		it := src.MapRange()
		for it.Next() {
			dv := dst.MapIndex(it.Key())
			if !dv.IsValid() {
				continue
			}
			// Map elements are not addressable: work on a copy and
			// store it back.
			tmp := reflect.New(elem).Elem()
			tmp.Set(dv)
			r.walk(it.Value(), tmp, depth+1)
			dst.SetMapIndex(it.Key(), tmp)
		}
	case reflect.Struct:
		t := src.Type()
		for i := range t.NumField() {
			if ok, _ := jsonField(t.Field(i)); ok {
				r.walk(src.Field(i), dst.Field(i), depth+1)
			}
		}
	}
}
