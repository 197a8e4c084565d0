package mns

import (
	"encoding/xml"
	"reflect"
	"strings"
	"testing"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

// agreeXML fails t unless every body the fast readers take decodes the same
// with encoding/xml (decodeXML, which they stand in for).
func agreeXML(t *testing.T, body []byte) (tookBatch, tookOne bool) {
	t.Helper()
	if got, ok := fastMessages(body); ok {
		var want reqMessages
		if e := decodeXML(body, "Messages", &want); e != nil {
			t.Fatalf("fastMessages took %q; encoding/xml refuses it: %v", body, e)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("fastMessages(%q) = %s, encoding/xml %s", body, show(got.Messages...), show(want.Messages...))
		}
		tookBatch = true
	}
	if got, ok := fastMessage(body); ok {
		var want reqMessage
		if e := decodeXML(body, "Message", &want); e != nil {
			t.Fatalf("fastMessage took %q; encoding/xml refuses it: %v", body, e)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("fastMessage(%q) = %s, encoding/xml %s", body, show(got), show(want))
		}
		tookOne = true
	}
	return tookBatch, tookOne
}

func show(ms ...reqMessage) string {
	var b strings.Builder
	for _, m := range ms {
		for _, f := range []*string{m.MessageBody, m.DelaySeconds, m.Priority, m.MessageTag} {
			if f == nil {
				b.WriteString("<nil> ")
			} else {
				b.WriteString(`"` + *f + `" `)
			}
		}
		b.WriteString("| ")
	}
	return b.String()
}

// What the SDK sends (xml.Marshal of its request types) is read by the
// fast readers, and as encoding/xml reads it; anything they do not know is
// left to encoding/xml.
func TestFastXMLAgreesWithEncodingXML(t *testing.T) {
	body := `{"specversion":"1.0","type":"rds.backup.created","data":{"note":"a <b> & 'c' \"d\"\tend\nline","é":"世界 \u2028"}}`
	one, err := xml.Marshal(ali_mns.MessageSendRequest{MessageBody: body, DelaySeconds: 3, Priority: 8})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := xml.Marshal(ali_mns.BatchMessageSendRequest{Messages: []ali_mns.MessageSendRequest{
		{MessageBody: body, Priority: 1}, {MessageBody: "plain"}, {MessageBody: "x\r\ny"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, took := agreeXML(t, one); !took {
		t.Errorf("the SDK's SendMessage body %q is left to encoding/xml", one)
	}
	if took, _ := agreeXML(t, batch); !took {
		t.Errorf("the SDK's BatchSendMessage body %q is left to encoding/xml", batch)
	}
	for _, doc := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><Messages><Message><MessageBody>a</MessageBody></Message></Messages>`,
		`<Messages xmlns="http://mns.aliyuncs.com/doc/v1/"><Message><MessageBody>a</MessageBody></Message></Messages>`,
		`<Messages><Message><MessageBody><![CDATA[a<b]]></MessageBody></Message></Messages>`,
		`<Messages><!-- c --><Message><MessageBody>a</MessageBody></Message></Messages>`,
		`<Messages><Message><MessageBody>a</MessageBody><MessageBody>b</MessageBody></Message></Messages>`,
		`<Messages><Message><Other>x</Other><MessageBody>a</MessageBody></Message></Messages>`,
		`<Messages><Message><MessageBody>a<i>b</i></MessageBody></Message></Messages>`,
		`<Messages><Message><MessageBody>a&unknown;</MessageBody></Message></Messages>`,
		`<Messages><Message><MessageBody>&#0;&#x1;&#xFFFE;&#55296;</MessageBody></Message></Messages>`,
		`<Messages><Message><MessageBody>&#65;&#x42;&#x00043;&#13;&apos;&quot;</MessageBody></Message></Messages>`,
		`<Message><MessageBody>&#x10FFFF;&#1114111;&#xD7FF;&#xE000;</MessageBody></Message>`,
		`<Message><MessageBody>&#x110000;</MessageBody></Message>`, `<Message><MessageBody>&#99999999999;</MessageBody></Message>`,
		`<Message><MessageBody>&#x;</MessageBody></Message>`, `<Message><MessageBody>&#;</MessageBody></Message>`,
		`<Message><MessageBody>&#xg1;</MessageBody></Message>`, `<Message><MessageBody>&#-1;</MessageBody></Message>`,
		`<Message><MessageBody>&#X41;</MessageBody></Message>`, `<Message><MessageBody>&amp</MessageBody></Message>`,
		"<Messages><Message><MessageBody>a\rb</MessageBody></Message></Messages>",
		"<Messages><Message><MessageBody>\x01</MessageBody></Message></Messages>",
		"<Messages><Message><MessageBody>\xff</MessageBody></Message></Messages>",
		"<Messages><Message><MessageBody>\uFFFE</MessageBody></Message></Messages>",
		`<Messages><Message><MessageBody>a]]>b</MessageBody></Message></Messages>`,
		`<Messages><Message><MessageBody></MessageBody></Message></Messages> trailing`,
		"\n <Messages>\n <Message>\n\t<DelaySeconds> 5 </DelaySeconds>\n</Message>\n</Messages>\n",
		`<Messages></Messages>`, `<Messages/>`, `<Message/>`, `<Messages>`, ``, `<Messages><Message><MessageBody>a</Message></Messages>`,
		`<m:Messages xmlns:m="x"><m:Message><m:MessageBody>a</m:MessageBody></m:Message></m:Messages>`,
		`<Message><MessageBody>a</MessageBody><Priority>16</Priority><MessageTag>t</MessageTag></Message>`,
	} {
		agreeXML(t, []byte(doc))
	}
}

func FuzzFastXML(f *testing.F) {
	for _, s := range []string{
		`<Messages><Message><MessageBody>{&#34;a&#34;:&#34;b&amp;c&#34;}</MessageBody><DelaySeconds>0</DelaySeconds><Priority>8</Priority></Message></Messages>`,
		`<Message><MessageBody>x&#xA;y&#x9;</MessageBody></Message>`,
		"<Messages>\n<Message><MessageBody>a&lt;b&gt;</MessageBody></Message></Messages>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { agreeXML(t, body) })
}
