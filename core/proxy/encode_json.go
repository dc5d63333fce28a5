package proxy

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// encodeJSON renders cfg as JSON (with the generated header as a YAML
// comment), indented by indent ("" for compact output).
func encodeJSON(cfg *Config, indent string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(generatedHeader)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("encode dynamic config: %w", err)
	}
	return escapeForTraefik(buf.Bytes()), nil
}

// escapeForTraefik rewrites the characters of JSON text that would not
// read back unchanged through Traefik's file provider: "{{", which starts
// a Go template action (the provider renders every file of its directory
// as a template before decoding it), and the characters YAML does not
// allow or reads as line breaks (DEL, C1 controls including NEL, BOM,
// U+FFFE and U+FFFF). encoding/json writes neither outside strings, so
// both are escaped as \uXXXX, which JSON and YAML read alike. The input
// is returned as is when it holds none of them.
func escapeForTraefik(b []byte) []byte {
	i := firstToEscape(b)
	if i < 0 {
		return b
	}
	out := make([]byte, i, len(b)+64)
	copy(out, b[:i])
	for i < len(b) {
		c := b[i]
		switch {
		case c == '{' && i+1 < len(b) && b[i+1] == '{':
			out = append(out, `{\u007b`...)
			i += 2
		case c < 0x7f:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0xfeff || r == 0xfffe || r == 0xffff {
				out = fmt.Appendf(out, `\u%04x`, r)
			} else {
				out = append(out, b[i:i+n]...)
			}
			i += n
		}
	}
	return out
}

// firstToEscape returns the index of the first "{{" or byte from 0x7f up
// in b, or -1. It reads eight bytes at a time: configurations are
// megabytes of printable ASCII.
func firstToEscape(b []byte) int {
	end := len(b)
	if j := bytes.Index(b, []byte("{{")); j >= 0 {
		end = j
	}
	const ones, highs, del = 0x0101010101010101, 0x8080808080808080, 0x7f * 0x0101010101010101
	i := 0
	for ; i+8 <= end; i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		x := w ^ del // a zero byte where b holds 0x7f
		if w&highs != 0 || (x-ones)&^x&highs != 0 {
			break
		}
	}
	for ; i < end; i++ {
		if b[i] >= 0x7f {
			return i
		}
	}
	if end == len(b) {
		return -1
	}
	return end
}
