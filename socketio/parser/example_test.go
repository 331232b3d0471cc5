package parser_test

import (
	"encoding/json"
	"fmt"

	"github.com/sori-dev/sori/socketio/parser"
)

func Example() {
	// Server side: emit an event with binary data to the "/files" namespace.
	text, atts, err := parser.Encode(&parser.Packet{
		Type:      parser.Event,
		Namespace: "/files",
		Data:      []any{"upload", "a.bin", []byte{1, 2, 3}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s + %d attachment(s)\n", text, len(atts))

	// Receiving side: feed every Engine.IO message to the connection's
	// decoder until a packet is complete.
	var d parser.Decoder
	p, _ := d.Add(text, false) // nil: waiting for the attachment
	for _, a := range atts {
		p, err = d.Add(a, true)
		if err != nil {
			panic(err)
		}
	}
	fmt.Println(p.Type, p.Namespace)

	// Bind the arguments to typed values.
	args, _ := parser.Args(p.Data.(json.RawMessage))
	var name, file string
	var data []byte
	for i, v := range []any{&name, &file, &data} {
		if err := parser.Unmarshal(args[i], p.Attachments, v); err != nil {
			panic(err)
		}
	}
	fmt.Println(name, file, data)
	// Output:
	// 51-/files,["upload","a.bin",{"_placeholder":true,"num":0}] + 1 attachment(s)
	// BINARY_EVENT /files
	// upload a.bin [1 2 3]
}

func ExampleUnmarshal() {
	raw := json.RawMessage(`{"name":"pic","img":{"_placeholder":true,"num":0},"meta":{"thumb":{"_placeholder":true,"num":1}}}`)
	atts := [][]byte{[]byte("IMG"), []byte("TH")}

	var typed struct {
		Name string
		Img  []byte
		Meta map[string]any
	}
	if err := parser.Unmarshal(raw, atts, &typed); err != nil {
		panic(err)
	}
	fmt.Printf("%s %s %s\n", typed.Name, typed.Img, typed.Meta["thumb"])
	// Output: pic IMG TH
}
