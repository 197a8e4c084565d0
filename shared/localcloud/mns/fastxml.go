package mns

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// The local cloud's own CPU is taken from the functions it serves on the
// bench's two cores, and a fleet's outcomes arrive here as a thousand
// messages, each an XML-escaped JSON document that encoding/xml decodes
// one character and one entity at a time. fastMessages and fastMessage
// read the documents the MNS SDK writes (xml.Marshal of its
// BatchMessageSendRequest and MessageSendRequest: elements and escaped
// text only) in one pass, and answer ok=false for anything else — a
// prolog, a namespace prefix, a comment, CDATA, an unknown or repeated
// element, a carriage return, a character XML forbids — which decodeXML
// reads with encoding/xml as before. TestFastXMLAgreesWithEncodingXML and
// its fuzz target hold every ok answer to encoding/xml's.

// fastMessages reads a BatchSendMessage body.
func fastMessages(body []byte) (reqMessages, bool) {
	s := xscan{b: body}
	var rm reqMessages
	if !s.open("Messages") {
		return reqMessages{}, false
	}
	for {
		s.space()
		if s.close("Messages") {
			break
		}
		m, ok := s.message()
		if !ok {
			return reqMessages{}, false
		}
		rm.Messages = append(rm.Messages, m)
	}
	if !s.end() {
		return reqMessages{}, false
	}
	return rm, true
}

// fastMessage reads a SendMessage body.
func fastMessage(body []byte) (reqMessage, bool) {
	s := xscan{b: body}
	m, ok := s.message()
	if !ok || !s.end() {
		return reqMessage{}, false
	}
	return m, true
}

type xscan struct {
	b []byte
	i int
}

func (s *xscan) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n') {
		s.i++
	}
}

// open reads <name> (after space).
func (s *xscan) open(name string) bool {
	s.space()
	if !bytes.HasPrefix(s.b[s.i:], []byte("<"+name+">")) {
		return false
	}
	s.i += len(name) + 2
	return true
}

// close reads </name>.
func (s *xscan) close(name string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte("</"+name+">")) {
		return false
	}
	s.i += len(name) + 3
	return true
}

// end: nothing but space after the root element.
func (s *xscan) end() bool {
	s.space()
	return s.i == len(s.b)
}

// message reads <Message>...</Message>, each child at most once.
func (s *xscan) message() (reqMessage, bool) {
	var m reqMessage
	if !s.open("Message") {
		return m, false
	}
	for {
		s.space()
		if s.close("Message") {
			return m, true
		}
		if s.i >= len(s.b) || s.b[s.i] != '<' {
			return m, false
		}
		end := bytes.IndexByte(s.b[s.i:], '>')
		if end < 0 {
			return m, false
		}
		name := string(s.b[s.i+1 : s.i+end])
		var dst **string
		switch name {
		case "MessageBody":
			dst = &m.MessageBody
		case "DelaySeconds":
			dst = &m.DelaySeconds
		case "Priority":
			dst = &m.Priority
		case "MessageTag":
			dst = &m.MessageTag
		default:
			return m, false
		}
		if *dst != nil {
			return m, false
		}
		s.i += end + 1
		text, ok := s.text()
		if !ok || !s.close(name) {
			return m, false
		}
		*dst = &text
	}
}

// text reads character data up to the next '<', entities decoded.
func (s *xscan) text() (string, bool) {
	start := s.i
	plain := true
	for s.i < len(s.b) && s.b[s.i] != '<' {
		c := s.b[s.i]
		switch {
		case c == '&':
			plain = false
		case c == '\r' || (c < 0x20 && c != '\t' && c != '\n'):
			return "", false
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if !xmlChar(r) || (r == utf8.RuneError && n == 1) {
				return "", false
			}
			s.i += n
			continue
		}
		s.i++
	}
	raw := s.b[start:s.i]
	if bytes.Contains(raw, []byte("]]>")) {
		return "", false
	}
	if plain {
		return string(raw), true
	}
	var out strings.Builder
	out.Grow(len(raw))
	for len(raw) > 0 {
		amp := bytes.IndexByte(raw, '&')
		if amp < 0 {
			out.Write(raw)
			break
		}
		out.Write(raw[:amp])
		semi := bytes.IndexByte(raw[amp:], ';')
		if semi < 0 {
			return "", false
		}
		ent := raw[amp+1 : amp+semi]
		switch string(ent) { // compared in place, not copied
		case "lt":
			out.WriteByte('<')
		case "gt":
			out.WriteByte('>')
		case "amp":
			out.WriteByte('&')
		case "apos":
			out.WriteByte('\'')
		case "quot":
			out.WriteByte('"')
		default:
			r, ok := charRef(ent)
			if !ok {
				return "", false
			}
			out.WriteRune(r)
		}
		raw = raw[amp+semi+1:]
	}
	return out.String(), true
}

// charRef reads "#N" or "#xN", a character XML allows.
func charRef(ent []byte) (rune, bool) {
	if len(ent) < 2 || ent[0] != '#' {
		return 0, false
	}
	digits, base := ent[1:], uint64(10)
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 || len(digits) > 8 {
		return 0, false
	}
	var n uint64
	for _, c := range digits {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		n = n*base + d
	}
	if n > 0x10FFFF || !xmlChar(rune(n)) {
		return 0, false
	}
	return rune(n), true
}

// xmlChar: the characters XML 1.0 allows (encoding/xml refuses the others).
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
