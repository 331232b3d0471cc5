package parser

import (
	"bytes"
	"crypto/rand"
	"encoding"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// This file holds everything about binary attachments: finding placeholder
// objects in JSON text, and finding []byte values in Go values to turn them
// into attachments.

// ---------------------------------------------------------------------------
// Placeholders in JSON text.

// placeholder is one {"_placeholder":true,"num":N} object of a JSON text;
// [start,end) is its byte span.
type placeholder struct {
	start, end int
	num        int    // -1 when invalid
	rawNum     []byte // the num member's JSON text, for error messages
}

// maxDepth bounds recursion of the JSON scanner. encoding/json refuses
// deeper documents anyway (its limit is 10000), so this only protects
// against inputs that were not validated first.
const maxDepth = 10001

// scanner walks a JSON text that is expected to be valid (callers run
// json.Valid first), returning value spans. It still checks every bound so
// garbage gives an error, never a panic.
type scanner struct {
	data  []byte
	pos   int
	depth int

	// collect enables placeholder collection, n is the number of
	// attachments that placeholders may refer to.
	collect bool
	n       int
	found   []placeholder
}

var errSyntax = &Error{Op: "decode", Err: ErrInvalidJSON, Detail: "malformed JSON"}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) && isSpace(s.data[s.pos]) {
		s.pos++
	}
}

// value skips one JSON value and returns its span (without surrounding
// whitespace).
func (s *scanner) value() (start, end int, err error) {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return 0, 0, errSyntax
	}
	start = s.pos
	switch s.data[s.pos] {
	case '{':
		err = s.object()
	case '[':
		err = s.array()
	case '"':
		_, err = s.str()
	default:
		for s.pos < len(s.data) {
			c := s.data[s.pos]
			if c == ',' || c == ']' || c == '}' || c == ':' || isSpace(c) {
				break
			}
			s.pos++
		}
		if s.pos == start {
			err = errSyntax
		}
	}
	return start, s.pos, err
}

// str skips a string starting at s.pos and reports whether it holds escapes.
func (s *scanner) str() (escaped bool, err error) {
	s.pos++ // opening quote
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case '\\':
			escaped = true
			s.pos += 2
		case '"':
			s.pos++
			return escaped, nil
		default:
			s.pos++
		}
	}
	return escaped, errSyntax
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return errSyntax
	}
	s.pos++ // opening bracket
	return nil
}

func (s *scanner) array() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer func() { s.depth-- }()
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		if _, _, err := s.value(); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return errSyntax
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return errSyntax
		}
	}
}

func (s *scanner) object() error {
	start := s.pos
	if err := s.enter(); err != nil {
		return err
	}
	defer func() { s.depth-- }()
	// Placeholders nested in a placeholder are dropped, as the reference
	// replaces the whole object without looking inside.
	mark := len(s.found)
	isPlaceholder := false
	var num []byte
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return errSyntax
		}
		kStart := s.pos
		escaped, err := s.str()
		if err != nil {
			return err
		}
		key := s.data[kStart+1 : s.pos-1]
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return errSyntax
		}
		s.pos++
		vStart, vEnd, err := s.value()
		if err != nil {
			return err
		}
		if s.collect {
			// Duplicate keys: the last one wins, as with JSON.parse.
			switch keyName(key, escaped, s.data[kStart:kStart+len(key)+2]) {
			case "_placeholder":
				isPlaceholder = string(s.data[vStart:vEnd]) == "true"
			case "num":
				num = s.data[vStart:vEnd]
			}
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return errSyntax
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			if isPlaceholder {
				// A bad num is only reported once the scan is over: this
				// object may itself sit inside a placeholder, which would
				// make it irrelevant.
				n, ok := placeholderNum(num, s.n)
				if !ok {
					n = -1
				}
				s.found = append(s.found[:mark], placeholder{start: start, end: s.pos, num: n, rawNum: num})
			}
			return nil
		default:
			return errSyntax
		}
	}
}

// keyName returns the object key, unescaping it only when needed: plain
// keys are compared as they are, without allocating.
func keyName(key []byte, escaped bool, quoted []byte) string {
	if !escaped {
		switch string(key) {
		case "_placeholder":
			return "_placeholder"
		case "num":
			return "num"
		}
		return ""
	}
	var k string
	if json.Unmarshal(quoted, &k) != nil {
		return ""
	}
	return k
}

// placeholderNum validates the num member of a placeholder: a JSON number
// holding an integer in [0,n).
func placeholderNum(num []byte, n int) (int, bool) {
	if len(num) == 0 || !(num[0] == '-' || (num[0] >= '0' && num[0] <= '9')) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f >= float64(n) {
		return 0, false
	}
	return int(f), true
}

// findPlaceholders returns the placeholders of the JSON text data, in text
// order, checking each refers to one of n attachments. data must be valid
// JSON.
func findPlaceholders(data []byte, n int) ([]placeholder, error) {
	// Fast exit: no placeholder can exist without this key text (escaped
	// keys are exotic enough to take the slow path via the backslash test).
	if !bytes.Contains(data, []byte("_placeholder")) && bytes.IndexByte(data, '\\') < 0 {
		return nil, nil
	}
	s := scanner{data: data, collect: true, n: n}
	if _, _, err := s.value(); err != nil {
		return nil, err
	}
	for _, p := range s.found {
		if p.num < 0 {
			return nil, &Error{Op: "decode", Err: ErrPlaceholder,
				Detail: "num " + strconv.Quote(string(p.rawNum)) + " with " + strconv.Itoa(n) + " attachments"}
		}
	}
	return s.found, nil
}

// replacePlaceholders returns data with every placeholder replaced by the
// JSON text repl(p) returns.
func replacePlaceholders(data []byte, phs []placeholder, repl func(dst []byte, p placeholder) []byte) []byte {
	out := make([]byte, 0, len(data)+64*len(phs))
	last := 0
	for _, p := range phs {
		out = append(out, data[last:p.start]...)
		out = repl(out, p)
		last = p.end
	}
	return append(out, data[last:]...)
}

// ---------------------------------------------------------------------------
// Markers.
//
// Go values carry []byte in typed places (struct fields, []byte slices)
// where a placeholder object cannot be stored, so binary values are swapped
// for markers instead: 16 bytes made of a random per-process nonce and an
// index. encoding/json writes them as base64 strings that no real data can
// produce without knowing the nonce, and which never leave the process.

const (
	nonceLen     = 12 // multiple of 3: its base64 has no padding
	markerLen    = nonceLen + 4
	markerB64Len = (markerLen + 2) / 3 * 4 // 24
)

type markerSet struct {
	nonce    [nonceLen]byte
	prefix   []byte // `"` + base64(nonce)
	b64Nonce string
}

func newMarkerSet() *markerSet {
	m := &markerSet{}
	_, _ = rand.Read(m.nonce[:]) // never fails since Go 1.24
	m.b64Nonce = base64.StdEncoding.EncodeToString(m.nonce[:])
	m.prefix = append([]byte{'"'}, m.b64Nonce...)
	return m
}

// encodeMarkers are used by Encode, decodeMarkers by Unmarshal, so one can
// never be mistaken for the other.
var encodeMarkers, decodeMarkers = newMarkerSet(), newMarkerSet()

func (m *markerSet) bytes(i int) []byte {
	b := make([]byte, markerLen)
	copy(b, m.nonce[:])
	binary.BigEndian.PutUint32(b[nonceLen:], uint32(i))
	return b
}

func (m *markerSet) string(i int) string {
	return base64.StdEncoding.EncodeToString(m.bytes(i))
}

// parse returns the index encoded in s if s is one of m's markers.
func (m *markerSet) parse(s string) (int, bool) {
	if len(s) != markerB64Len || s[:len(m.b64Nonce)] != m.b64Nonce {
		return 0, false
	}
	var b [markerLen + 2]byte
	n, err := base64.StdEncoding.Decode(b[:], []byte(s))
	if err != nil || n != markerLen {
		return 0, false
	}
	return int(binary.BigEndian.Uint32(b[nonceLen:])), true
}

// ---------------------------------------------------------------------------
// []byte in Go values.

var (
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// opaqueEncode reports whether encoding/json hands values of t to a method
// instead of looking inside.
func opaqueEncode(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(marshalerType) || t.Implements(textMarshalerType) ||
		pt.Implements(marshalerType) || pt.Implements(textMarshalerType)
}

// opaqueDecode is opaqueEncode for unmarshalling.
func opaqueDecode(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(unmarshalerType) || t.Implements(textUnmarshalerType) ||
		pt.Implements(unmarshalerType) || pt.Implements(textUnmarshalerType)
}

// isBytes reports whether encoding/json encodes t as a base64 string.
func isBytes(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && !opaqueEncode(t.Elem())
}

// jsonField tells whether encoding/json considers struct field f, and
// whether it has the omitempty option.
func jsonField(f reflect.StructField) (visible, omitEmpty bool) {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return false, false
	}
	if !f.IsExported() {
		// Unexported embedded structs still contribute their exported
		// fields. Through an unexported embedded pointer they cannot be
		// replaced in a copy, so those are left alone.
		if !f.Anonymous || f.Type.Kind() != reflect.Struct {
			return false, false
		}
	}
	_, opts, _ := strings.Cut(tag, ",")
	for opts != "" {
		var opt string
		opt, opts, _ = strings.Cut(opts, ",")
		if opt == "omitempty" {
			omitEmpty = true
		}
	}
	return true, omitEmpty
}

// typeReach reports whether a value of type t can hold, somewhere encoding/json
// looks, a type for which leaf returns true. Types for which opaque returns
// true are not entered. Results are cached per root type.
type typeReach struct {
	cache  sync.Map // reflect.Type -> bool
	opaque func(reflect.Type) bool
	leaf   func(reflect.Type) bool
}

func (r *typeReach) reaches(t reflect.Type) bool {
	if v, ok := r.cache.Load(t); ok {
		return v.(bool)
	}
	// Only the root result is cached: results computed while a recursive
	// type was still being explored may be incomplete.
	res := r.walk(t, map[reflect.Type]bool{})
	r.cache.Store(t, res)
	return res
}

func (r *typeReach) walk(t reflect.Type, seen map[reflect.Type]bool) bool {
	if r.leaf(t) {
		return true
	}
	if seen[t] || r.opaque(t) {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Interface:
		return true // may hold anything
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return r.walk(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if ok, _ := jsonField(f); ok && r.walk(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// mayHoldBytes: can a value of this type hold a []byte to extract?
var mayHoldBytes = &typeReach{opaque: opaqueEncode, leaf: isBytes}

// mayHoldInterface: can decoding into this type store into an interface?
var mayHoldInterface = &typeReach{
	opaque: opaqueDecode,
	leaf:   func(t reflect.Type) bool { return t.Kind() == reflect.Interface && t.NumMethod() == 0 },
}

// maxValueDepth bounds walks over Go values, which may be cyclic.
// encoding/json reports cycles after 1000 levels, so deeper values fail to
// encode anyway.
const maxValueDepth = 1000

// HasBinary reports whether v holds a non-nil []byte anywhere encoding/json
// would look (see Packet.Data). Common shapes ([]any, map[string]any,
// scalars) are checked without reflection, and types that cannot hold a
// []byte are recognised from a per-type cache.
func HasBinary(v any) bool { return hasBinary(v, 0) }

func hasBinary(v any, depth int) bool {
	if depth > maxValueDepth {
		return true // let the encoder report the cycle
	}
	switch x := v.(type) {
	case nil, string, bool, float64, float32, int, int64, int32, uint, uint64, uint32,
		json.Number, json.RawMessage, []string, map[string]string, []int, []float64:
		return false
	case []byte:
		return x != nil
	case []any:
		for _, e := range x {
			if hasBinary(e, depth+1) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, e := range x {
			if hasBinary(e, depth+1) {
				return true
			}
		}
		return false
	}
	rv := reflect.ValueOf(v)
	if !mayHoldBytes.reaches(rv.Type()) {
		return false
	}
	return valueHasBinary(rv, depth)
}

func valueHasBinary(v reflect.Value, depth int) bool {
	if depth > maxValueDepth {
		return true
	}
	t := v.Type()
	if isBytes(t) {
		return !v.IsNil()
	}
	if !mayHoldBytes.reaches(t) {
		return false
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return false
		}
		e := v.Elem()
		if e.CanInterface() {
			return hasBinary(e.Interface(), depth+1)
		}
		return valueHasBinary(e, depth+1)
	case reflect.Pointer:
		return !v.IsNil() && valueHasBinary(v.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if valueHasBinary(v.Index(i), depth+1) {
				return true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if valueHasBinary(it.Value(), depth+1) {
				return true
			}
		}
	case reflect.Struct:
		for i := range t.NumField() {
			if ok, _ := jsonField(t.Field(i)); ok && valueHasBinary(v.Field(i), depth+1) {
				return true
			}
		}
	}
	return false
}

// extractor builds a copy of a value in which every []byte is replaced by
// an encode marker; the originals are kept in bufs, indexed by marker.
// Only the containers on the way to a []byte are copied; the caller's
// value is never modified.
type extractor struct {
	bufs [][]byte
}

var errTooDeep = &Error{Op: "encode", Err: ErrEncode, Detail: "value too deeply nested or cyclic"}

// copy returns the replacement for v and whether anything changed. omitEmpty
// tells whether v is a struct field with the omitempty option, whose empty
// []byte must stay empty so that it is still omitted.
func (x *extractor) copy(v reflect.Value, omitEmpty bool, depth int) (reflect.Value, bool, error) {
	if depth > maxValueDepth {
		return v, false, errTooDeep
	}
	t := v.Type()
	if isBytes(t) {
		if v.IsNil() || (omitEmpty && v.Len() == 0) {
			return v, false, nil
		}
		nv := reflect.New(t).Elem()
		nv.SetBytes(encodeMarkers.bytes(len(x.bufs)))
		x.bufs = append(x.bufs, v.Bytes())
		return nv, true, nil
	}
	if !mayHoldBytes.reaches(t) {
		return v, false, nil
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return v, false, nil
		}
		ne, changed, err := x.copy(v.Elem(), false, depth+1)
		if err != nil || !changed {
			return v, false, err
		}
		nv := reflect.New(t).Elem()
		nv.Set(ne)
		return nv, true, nil
	case reflect.Pointer:
		if v.IsNil() {
			return v, false, nil
		}
		ne, changed, err := x.copy(v.Elem(), false, depth+1)
		if err != nil || !changed {
			return v, false, err
		}
		np := reflect.New(t.Elem())
		np.Elem().Set(ne)
		return np, true, nil
	case reflect.Slice, reflect.Array:
		var nv reflect.Value
		for i := range v.Len() {
			ne, changed, err := x.copy(v.Index(i), false, depth+1)
			if err != nil {
				return v, false, err
			}
			if !changed {
				continue
			}
			if !nv.IsValid() {
				if v.Kind() == reflect.Slice {
					nv = reflect.MakeSlice(t, v.Len(), v.Len())
					reflect.Copy(nv, v)
				} else {
					nv = reflect.New(t).Elem()
					nv.Set(v)
				}
			}
			nv.Index(i).Set(ne)
		}
		return orig(v, nv)
	case reflect.Map:
		var nv reflect.Value
		it := v.MapRange()
		for it.Next() {
			ne, changed, err := x.copy(it.Value(), false, depth+1)
			if err != nil {
				return v, false, err
			}
			if !changed {
				continue
			}
			if !nv.IsValid() {
				nv = reflect.MakeMapWithSize(t, v.Len())
				all := v.MapRange()
				for all.Next() {
					nv.SetMapIndex(all.Key(), all.Value())
				}
			}
			nv.SetMapIndex(it.Key(), ne)
		}
		return orig(v, nv)
	case reflect.Struct:
		nv := reflect.New(t).Elem()
		nv.Set(v)
		changed, err := x.patchStruct(nv, v, depth)
		if err != nil || !changed {
			return v, false, err
		}
		return nv, true, nil
	}
	return v, false, nil
}

func orig(v, nv reflect.Value) (reflect.Value, bool, error) {
	if nv.IsValid() {
		return nv, true, nil
	}
	return v, false, nil
}

// patchStruct replaces, in dst (a settable copy of src), the fields of src
// that hold []byte. Fields of unexported embedded structs are patched one
// by one because only their exported fields are settable.
func (x *extractor) patchStruct(dst, src reflect.Value, depth int) (bool, error) {
	t := src.Type()
	patched := false
	for i := range t.NumField() {
		f := t.Field(i)
		ok, omitEmpty := jsonField(f)
		if !ok {
			continue
		}
		if !f.IsExported() { // unexported embedded struct
			changed, err := x.patchStruct(dst.Field(i), src.Field(i), depth+1)
			if err != nil {
				return false, err
			}
			patched = patched || changed
			continue
		}
		ne, changed, err := x.copy(src.Field(i), omitEmpty, depth+1)
		if err != nil {
			return false, err
		}
		if changed {
			dst.Field(i).Set(ne)
			patched = true
		}
	}
	return patched, nil
}
