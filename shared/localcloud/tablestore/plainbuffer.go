package tablestore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// PlainBuffer is Tablestore's row encoding, carried in the bytes fields of the
// protobuf messages (PutRowRequest.row, GetRowResponse.row, …). This file
// decodes what the SDK writes and encodes what the SDK reads, following
// tablestore/plain_buffer.go and util.go of aliyun-tablestore-go-sdk v1.7.17:
//
//	rows   := int32le(0x75) row*
//	row    := 0x01 cell* [0x02 cell*] [0x08] 0x09 crc8
//	cell   := 0x03 0x04 int32le(len) name [0x05 int32le(len) value]
//	          [0x06 op] [0x07 int64le(ts)] 0x0A crc8
//	value  := type payload   (payload: int64le | float64 bits | bool byte |
//	          int32le(len) bytes; nothing for INF_MIN, INF_MAX, AUTO_INCREMENT)
//
// Checksums are CRC-8 (polynomial 0x07, initial 0). A cell's covers its name,
// its value (type byte and payload, without the length prefix), its timestamp
// and then its op byte; a row's covers each cell's checksum in order and a
// last byte, 1 with a delete marker and 0 without. The server verifies both
// on every row it reads and writes both on every row it answers.

// Tags.
const (
	pbHeader        = 0x75
	tagRowPK        = 0x01
	tagRowData      = 0x02
	tagCell         = 0x03
	tagCellName     = 0x04
	tagCellValue    = 0x05
	tagCellType     = 0x06
	tagCellTS       = 0x07
	tagDeleteMarker = 0x08
	tagRowChecksum  = 0x09
	tagCellChecksum = 0x0A
)

// Variant types of a value.
const (
	vtInteger       = 0x0
	vtDouble        = 0x1
	vtBoolean       = 0x2
	vtString        = 0x3
	vtBlob          = 0x7
	vtInfMin        = 0x9
	vtInfMax        = 0xa
	vtAutoIncrement = 0xb
)

// Cell operations of an update (the 0x06 byte).
const (
	opDeleteAllVersions = 0x1
	opDeleteOneVersion  = 0x3
	opIncrement         = 0x4
)

var crc8Table = func() [256]byte {
	var t [256]byte
	for i := range t {
		x := byte(i)
		for range 8 {
			if x&0x80 != 0 {
				x = x<<1 ^ 0x07
			} else {
				x <<= 1
			}
		}
		t[i] = x
	}
	return t
}()

func crc8(crc byte, bs ...byte) byte {
	for _, b := range bs {
		crc = crc8Table[crc^b]
	}
	return crc
}

func crc8U32(crc byte, v uint32) byte {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return crc8(crc, b[:]...)
}

func crc8U64(crc byte, v uint64) byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return crc8(crc, b[:]...)
}

// value is one typed value: a primary key column's or a cell's.
type value struct {
	vt byte
	i  int64   // vtInteger
	f  float64 // vtDouble
	b  bool    // vtBoolean
	s  []byte  // vtString, vtBlob
}

func (v value) payload() []byte {
	var out []byte
	switch v.vt {
	case vtInteger:
		out = binary.LittleEndian.AppendUint64(out, uint64(v.i))
	case vtDouble:
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v.f))
	case vtBoolean:
		if v.b {
			out = append(out, 1)
		} else {
			out = append(out, 0)
		}
	case vtString, vtBlob:
		out = binary.LittleEndian.AppendUint32(out, uint32(len(v.s)))
		out = append(out, v.s...)
	}
	return out
}

// checksum is crc8 over v's type and payload, without building the
// payload (every cell of every row written passes here).
func (v value) checksum(crc byte) byte {
	crc = crc8(crc, v.vt)
	switch v.vt {
	case vtInteger:
		return crc8U64(crc, uint64(v.i))
	case vtDouble:
		return crc8U64(crc, math.Float64bits(v.f))
	case vtBoolean:
		if v.b {
			return crc8(crc, 1)
		}
		return crc8(crc, 0)
	case vtString, vtBlob:
		return crc8(crc8U32(crc, uint32(len(v.s))), v.s...)
	}
	return crc
}

// crc8String is crc8 over s's bytes.
func crc8String(crc byte, s string) byte {
	for i := 0; i < len(s); i++ {
		crc = crc8Table[crc^s[i]]
	}
	return crc
}

func (v value) String() string {
	switch v.vt {
	case vtInteger:
		return fmt.Sprint(v.i)
	case vtDouble:
		return fmt.Sprint(v.f)
	case vtBoolean:
		return fmt.Sprint(v.b)
	case vtString:
		return fmt.Sprintf("%q", v.s)
	case vtBlob:
		return fmt.Sprintf("0x%x", v.s)
	case vtInfMin:
		return "INF_MIN"
	case vtInfMax:
		return "INF_MAX"
	case vtAutoIncrement:
		return "AUTO_INCREMENT"
	}
	return fmt.Sprintf("type(%d)", v.vt)
}

// vtName is the variant type's name as the service spells it in messages.
func vtName(vt byte) string {
	switch vt {
	case vtInteger:
		return "VT_INTEGER"
	case vtDouble:
		return "VT_DOUBLE"
	case vtBoolean:
		return "VT_BOOLEAN"
	case vtString:
		return "VT_STRING"
	case vtBlob:
		return "VT_BLOB"
	case vtInfMin:
		return "VT_INF_MIN"
	case vtInfMax:
		return "VT_INF_MAX"
	case vtAutoIncrement:
		return "VT_AUTO_INCREMENT"
	}
	return fmt.Sprintf("VT_%d", vt)
}

// pbCell is a decoded cell: a primary key column or an attribute column.
type pbCell struct {
	name     string
	hasValue bool
	v        value
	hasOp    bool
	op       byte
	hasTS    bool
	ts       int64
}

func (c pbCell) checksum() byte {
	crc := crc8String(0, c.name)
	if c.hasValue {
		crc = c.v.checksum(crc)
	}
	if c.hasTS {
		crc = crc8U64(crc, uint64(c.ts))
	}
	if c.hasOp {
		crc = crc8(crc, c.op)
	}
	return crc
}

// pbRow is a decoded row.
type pbRow struct {
	pk      []pbCell
	cells   []pbCell
	deleted bool // delete marker
}

func (r pbRow) checksum() byte {
	var crc byte
	for _, c := range r.pk {
		crc = crc8(crc, c.checksum())
	}
	for _, c := range r.cells {
		crc = crc8(crc, c.checksum())
	}
	if r.deleted {
		return crc8(crc, 1)
	}
	return crc8(crc, 0)
}

var errPlainBuffer = errors.New("invalid PlainBuffer")

type pbReader struct {
	b   []byte
	off int
}

func (r *pbReader) fail(format string, a ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errPlainBuffer, r.off, fmt.Sprintf(format, a...))
}

func (r *pbReader) left() int { return len(r.b) - r.off }

func (r *pbReader) peek() (byte, bool) {
	if r.off >= len(r.b) {
		return 0, false
	}
	return r.b[r.off], true
}

func (r *pbReader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, r.fail("unexpected end")
	}
	r.off++
	return r.b[r.off-1], nil
}

func (r *pbReader) bytes(n int) ([]byte, error) {
	if n < 0 || r.left() < n {
		return nil, r.fail("unexpected end (want %d bytes)", n)
	}
	r.off += n
	return r.b[r.off-n : r.off], nil
}

func (r *pbReader) u32() (uint32, error) {
	b, err := r.bytes(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (r *pbReader) u64() (uint64, error) {
	b, err := r.bytes(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (r *pbReader) expect(tag byte, what string) error {
	t, err := r.byte()
	if err != nil {
		return err
	}
	if t != tag {
		r.off--
		return r.fail("expected %s (tag 0x%02x), got tag 0x%02x", what, tag, t)
	}
	return nil
}

// decodeRows reads a PlainBuffer with its header: one or more rows.
func decodeRows(b []byte) ([]pbRow, error) {
	r := &pbReader{b: b}
	h, err := r.u32()
	if err != nil {
		return nil, err
	}
	if h != pbHeader {
		return nil, fmt.Errorf("%w: header is 0x%x, want 0x75", errPlainBuffer, h)
	}
	var rows []pbRow
	for r.left() > 0 {
		row, err := r.row()
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: no row", errPlainBuffer)
	}
	return rows, nil
}

// decodeRow reads a PlainBuffer that must hold exactly one row.
func decodeRow(b []byte) (pbRow, error) {
	rows, err := decodeRows(b)
	if err != nil {
		return pbRow{}, err
	}
	if len(rows) != 1 {
		return pbRow{}, fmt.Errorf("%w: %d rows where one is expected", errPlainBuffer, len(rows))
	}
	return rows[0], nil
}

func (r *pbReader) row() (pbRow, error) {
	var row pbRow
	if err := r.expect(tagRowPK, "primary key"); err != nil {
		return row, err
	}
	for {
		t, ok := r.peek()
		if !ok || t != tagCell {
			break
		}
		c, err := r.cell()
		if err != nil {
			return row, err
		}
		row.pk = append(row.pk, c)
	}
	if t, ok := r.peek(); ok && t == tagRowData {
		r.off++
		for {
			t, ok := r.peek()
			if !ok || t != tagCell {
				break
			}
			c, err := r.cell()
			if err != nil {
				return row, err
			}
			row.cells = append(row.cells, c)
		}
	}
	if t, ok := r.peek(); ok && t == tagDeleteMarker {
		r.off++
		row.deleted = true
	}
	if err := r.expect(tagRowChecksum, "row checksum"); err != nil {
		return row, err
	}
	sum, err := r.byte()
	if err != nil {
		return row, err
	}
	if want := row.checksum(); sum != want {
		return row, fmt.Errorf("%w: row checksum is 0x%02x, computed 0x%02x", errPlainBuffer, sum, want)
	}
	return row, nil
}

func (r *pbReader) cell() (pbCell, error) {
	var c pbCell
	if err := r.expect(tagCell, "cell"); err != nil {
		return c, err
	}
	if err := r.expect(tagCellName, "cell name"); err != nil {
		return c, err
	}
	n, err := r.u32()
	if err != nil {
		return c, err
	}
	name, err := r.bytes(int(n))
	if err != nil {
		return c, err
	}
	c.name = string(name)
	t, _ := r.peek()
	if t == tagCellValue {
		r.off++
		if c.v, err = r.value(); err != nil {
			return c, err
		}
		c.hasValue = true
		t, _ = r.peek()
	}
	if t == tagCellType {
		r.off++
		if c.op, err = r.byte(); err != nil {
			return c, err
		}
		c.hasOp = true
		t, _ = r.peek()
	}
	if t == tagCellTS {
		r.off++
		ts, err := r.u64()
		if err != nil {
			return c, err
		}
		c.ts, c.hasTS = int64(ts), true
	}
	if err := r.expect(tagCellChecksum, "cell checksum"); err != nil {
		return c, err
	}
	sum, err := r.byte()
	if err != nil {
		return c, err
	}
	if want := c.checksum(); sum != want {
		return c, fmt.Errorf("%w: checksum of cell %q is 0x%02x, computed 0x%02x", errPlainBuffer, c.name, sum, want)
	}
	return c, nil
}

// value reads a length-prefixed value (after the 0x05 tag).
func (r *pbReader) value() (value, error) {
	n, err := r.u32()
	if err != nil {
		return value{}, err
	}
	start := r.off
	v, err := r.rawValue()
	if err != nil {
		return v, err
	}
	if got := r.off - start; uint32(got) != n {
		return v, r.fail("value length prefix %d, value is %d bytes", n, got)
	}
	return v, nil
}

// rawValue reads a type byte and its payload, the form of
// SingleColumnValueFilter.column_value as well.
func (r *pbReader) rawValue() (value, error) {
	var v value
	var err error
	if v.vt, err = r.byte(); err != nil {
		return v, err
	}
	switch v.vt {
	case vtInteger:
		u, err := r.u64()
		v.i = int64(u)
		return v, err
	case vtDouble:
		u, err := r.u64()
		v.f = math.Float64frombits(u)
		return v, err
	case vtBoolean:
		b, err := r.byte()
		v.b = b != 0
		return v, err
	case vtString, vtBlob:
		n, err := r.u32()
		if err != nil {
			return v, err
		}
		s, err := r.bytes(int(n))
		v.s = bytes.Clone(s)
		return v, err
	case vtInfMin, vtInfMax, vtAutoIncrement:
		return v, nil
	}
	return v, r.fail("unknown value type 0x%02x", v.vt)
}

// decodeRawValue decodes a filter's column_value.
func decodeRawValue(b []byte) (value, error) {
	r := &pbReader{b: b}
	v, err := r.rawValue()
	if err == nil && r.left() != 0 {
		err = r.fail("%d bytes after the value", r.left())
	}
	return v, err
}

// ---- encoding ----

type pbWriter struct{ buf []byte }

func newPBWriter() *pbWriter {
	w := &pbWriter{}
	w.buf = binary.LittleEndian.AppendUint32(w.buf, pbHeader)
	return w
}

func (w *pbWriter) cell(c pbCell) {
	w.buf = append(w.buf, tagCell, tagCellName)
	w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(c.name)))
	w.buf = append(w.buf, c.name...)
	if c.hasValue {
		p := c.v.payload()
		w.buf = append(w.buf, tagCellValue)
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(1+len(p)))
		w.buf = append(w.buf, c.v.vt)
		w.buf = append(w.buf, p...)
	}
	if c.hasOp {
		w.buf = append(w.buf, tagCellType, c.op)
	}
	if c.hasTS {
		w.buf = append(w.buf, tagCellTS)
		w.buf = binary.LittleEndian.AppendUint64(w.buf, uint64(c.ts))
	}
	w.buf = append(w.buf, tagCellChecksum, c.checksum())
}

func (w *pbWriter) row(r pbRow) {
	w.buf = append(w.buf, tagRowPK)
	for _, c := range r.pk {
		w.cell(c)
	}
	if len(r.cells) > 0 {
		w.buf = append(w.buf, tagRowData)
		for _, c := range r.cells {
			w.cell(c)
		}
	}
	if r.deleted {
		w.buf = append(w.buf, tagDeleteMarker)
	}
	w.buf = append(w.buf, tagRowChecksum, r.checksum())
}

// encodeRows writes rows after a header; nil for no rows.
func encodeRows(rows ...pbRow) []byte {
	if len(rows) == 0 {
		return nil
	}
	w := newPBWriter()
	for _, r := range rows {
		w.row(r)
	}
	return w.buf
}
