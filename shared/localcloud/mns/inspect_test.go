package mns

import (
	"fmt"
	"testing"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

// TestMessagesFrom: a watcher polling a growing queue gets each message
// once, in order, and nothing past the end; a deleted message is still in
// the record, as with Messages.
func TestMessagesFrom(t *testing.T) {
	srv := newServer(t)
	q := setupQueue(t, srv, "q", QueueAttributes{})
	send := func(body string) {
		t.Helper()
		if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: body}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	poll := func() {
		for _, m := range srv.MessagesFrom("q", len(seen)) {
			seen = append(seen, m.Body)
		}
	}
	poll()
	send("a")
	send("b")
	poll()
	r, err := receive(q, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.DeleteMessage(r.ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	send("c")
	poll()
	poll()
	if got := fmt.Sprint(seen); got != "[a b c]" {
		t.Errorf("seen %s, want [a b c]", got)
	}
	if len(srv.MessagesFrom("q", 99)) != 0 || srv.MessagesFrom("nope", 0) != nil {
		t.Error("past the end or an unknown queue: want none")
	}
	if got, all := srv.MessagesFrom("q", 1), srv.Messages("q"); len(got) != 2 || got[0].Body != all[1].Body {
		t.Errorf("MessagesFrom(1) = %d messages, want Messages()[1:]", len(got))
	}
}
