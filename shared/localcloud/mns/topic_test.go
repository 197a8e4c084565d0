package mns

import (
	"encoding/json"
	"encoding/xml"
	"strconv"
	"testing"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

func TestTopicFanOut(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, WithClock(clock.Now), WithRegion("cn-shanghai", "1111222233334444"))
	cli := client(srv)
	tm := ali_mns.NewMNSTopicManager(cli)
	for _, q := range []string{"q-simple", "q-xml", "q-json"} {
		setupQueue(t, srv, q, QueueAttributes{})
	}

	wantErr(t, "CreateSimpleTopic", tm.CreateSimpleTopic("backup-events"), nil)
	wantErr(t, "CreateSimpleTopic again", tm.CreateSimpleTopic("backup-events"), &ali_mns.ERR_MNS_TOPIC_ALREADY_EXIST_AND_HAVE_SAME_ATTR)
	wantErr(t, "CreateTopic other attrs", tm.CreateTopic("backup-events", 2048, false), &ali_mns.ERR_MNS_TOPIC_ALREADY_EXIST)

	topic := ali_mns.NewMNSTopic("backup-events", cli)
	wantErr(t, "Subscribe SIMPLIFIED", topic.Subscribe("to-simple", ali_mns.MessageSubsribeRequest{
		Endpoint: topic.GenerateQueueEndpoint("q-simple"), NotifyContentFormat: ali_mns.SIMPLIFIED,
	}), nil)
	wantErr(t, "Subscribe XML", topic.Subscribe("to-xml", ali_mns.MessageSubsribeRequest{
		Endpoint: topic.GenerateQueueEndpoint("q-xml"), NotifyContentFormat: ali_mns.XML,
	}), nil)
	wantErr(t, "Subscribe again", topic.Subscribe("to-xml", ali_mns.MessageSubsribeRequest{
		Endpoint: topic.GenerateQueueEndpoint("q-xml"), NotifyContentFormat: ali_mns.XML,
	}), &ali_mns.ERR_MNS_SUBSCRIPTION_ALREADY_EXIST_AND_HAVE_SAME_ATTR)
	wantErr(t, "Subscribe mail endpoint", topic.Subscribe("to-mail", ali_mns.MessageSubsribeRequest{
		Endpoint: topic.GenerateMailEndpoint("a@example.com"),
	}), &ali_mns.ERR_MNS_INVALID_ENDPOINT)
	// JSON has no SDK constant; the admin helper subscribes it.
	if err := srv.Subscribe("backup-events", "to-json", "q-json", FormatJSON); err != nil {
		t.Fatal(err)
	}

	body := `{"instance":"rm-1","status":"ok & <done>"}`
	pub, err := topic.PublishMessage(ali_mns.MessagePublishRequest{MessageBody: body, MessageTag: "backup"})
	wantErr(t, "PublishMessage", err, nil)
	if pub.MessageId == "" || pub.MessageBodyMD5 != bodyMD5(body) {
		t.Fatalf("publish = %+v", pub)
	}
	publishMS := clock.Now().UnixMilli()

	m, err := receive(ali_mns.NewMNSQueue("q-simple", cli))
	wantErr(t, "receive q-simple", err, nil)
	if m.MessageBody != body {
		t.Fatalf("SIMPLIFIED body = %q", m.MessageBody)
	}

	m, err = receive(ali_mns.NewMNSQueue("q-xml", cli))
	wantErr(t, "receive q-xml", err, nil)
	var xn struct {
		XMLName          xml.Name
		TopicOwner       string
		TopicName        string
		Subscriber       string
		SubscriptionName string
		MessageId        string
		Message          string
		MessageMD5       string
		MessageTag       string
		PublishTime      int64
	}
	if err := xml.Unmarshal([]byte(m.MessageBody), &xn); err != nil {
		t.Fatalf("XML notification %q: %v", m.MessageBody, err)
	}
	if xn.XMLName.Local != "Notification" || xn.XMLName.Space != xmlNS || xn.TopicOwner != "1111222233334444" ||
		xn.TopicName != "backup-events" || xn.SubscriptionName != "to-xml" || xn.MessageId != pub.MessageId ||
		xn.Message != body || xn.MessageMD5 != pub.MessageBodyMD5 || xn.MessageTag != "backup" || xn.PublishTime != publishMS {
		t.Fatalf("XML notification = %+v", xn)
	}

	m, err = receive(ali_mns.NewMNSQueue("q-json", cli))
	wantErr(t, "receive q-json", err, nil)
	var jn map[string]string
	if err := json.Unmarshal([]byte(m.MessageBody), &jn); err != nil {
		t.Fatalf("JSON notification %q: %v", m.MessageBody, err)
	}
	if jn["TopicName"] != "backup-events" || jn["SubscriptionName"] != "to-json" || jn["Message"] != body ||
		jn["MessageId"] != pub.MessageId || jn["Subscriber"] != "1111222233334444" || jn["MessageTag"] != "backup" ||
		jn["PublishTime"] != strconv.FormatInt(publishMS, 10) {
		t.Fatalf("JSON notification = %v", jn)
	}

	if rec := srv.Messages("q-json"); len(rec) != 1 || rec[0].Source != "topic/backup-events/subscription/to-json" {
		t.Fatalf("q-json log = %+v", rec)
	}

	attr, err := tm.GetTopicAttributes("backup-events")
	wantErr(t, "GetTopicAttributes", err, nil)
	if attr.TopicName != "backup-events" || attr.MessageCount != 1 || attr.MaxMessageSize != 65536 {
		t.Fatalf("topic attributes = %+v", attr)
	}
	sa, err := topic.GetSubscriptionAttributes("to-xml")
	wantErr(t, "GetSubscriptionAttributes", err, nil)
	if sa.Endpoint != "acs:mns:0:127:queues/q-xml" || sa.NotifyContentFormat != ali_mns.XML || sa.NotifyStrategy != ali_mns.BACKOFF_RETRY {
		t.Fatalf("subscription attributes = %+v", sa)
	}
	wantErr(t, "SetSubscriptionAttributes", topic.SetSubscriptionAttributes("to-xml", ali_mns.EXPONENTIAL_DECAY_RETRY), nil)
	sa, _ = topic.GetSubscriptionAttributes("to-xml")
	if sa.NotifyStrategy != ali_mns.EXPONENTIAL_DECAY_RETRY {
		t.Fatalf("strategy = %q", sa.NotifyStrategy)
	}
	subs, err := topic.ListSubscriptionByTopic("", 10, "to-")
	wantErr(t, "ListSubscriptionByTopic", err, nil)
	if len(subs.Subscriptions) != 3 {
		t.Fatalf("subscriptions = %+v", subs)
	}
	topics, err := tm.ListTopic("", 10, "")
	wantErr(t, "ListTopic", err, nil)
	if len(topics.Topics) != 1 {
		t.Fatalf("topics = %+v", topics)
	}

	// Unsubscribed queues get nothing more.
	wantErr(t, "Unsubscribe", topic.Unsubscribe("to-simple"), nil)
	if _, err := topic.PublishMessage(ali_mns.MessagePublishRequest{MessageBody: "second"}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages("q-simple")); n != 1 {
		t.Fatalf("q-simple got %d messages after Unsubscribe, want 1", n)
	}
	if n := len(srv.Messages("q-xml")); n != 2 {
		t.Fatalf("q-xml got %d messages, want 2", n)
	}

	wantErr(t, "DeleteTopic", tm.DeleteTopic("backup-events"), nil)
	_, err = topic.PublishMessage(ali_mns.MessagePublishRequest{MessageBody: "x"})
	wantErr(t, "PublishMessage to deleted topic", err, &ali_mns.ERR_MNS_TOPIC_NOT_EXIST)
	if c := lastCall(t, srv, "PublishMessage"); c.Status != 404 || c.Code != "TopicNotExist" {
		t.Fatalf("call = %+v", c)
	}
}

func TestTopicFilterTag(t *testing.T) {
	srv := newServer(t)
	setupQueue(t, srv, "only-tagged", QueueAttributes{})
	cli := client(srv)
	if err := ali_mns.NewMNSTopicManager(cli).CreateSimpleTopic("events"); err != nil {
		t.Fatal(err)
	}
	topic := ali_mns.NewMNSTopic("events", cli)
	wantErr(t, "Subscribe", topic.Subscribe("s", ali_mns.MessageSubsribeRequest{
		Endpoint: topic.GenerateQueueEndpoint("only-tagged"), FilterTag: "failed", NotifyContentFormat: ali_mns.SIMPLIFIED,
	}), nil)
	for _, m := range []ali_mns.MessagePublishRequest{
		{MessageBody: "untagged"}, {MessageBody: "other", MessageTag: "ok"}, {MessageBody: "wanted", MessageTag: "failed"},
	} {
		if _, err := topic.PublishMessage(m); err != nil {
			t.Fatal(err)
		}
	}
	if rec := srv.Messages("only-tagged"); len(rec) != 1 || rec[0].Body != "wanted" {
		t.Fatalf("delivered = %+v", rec)
	}
}
