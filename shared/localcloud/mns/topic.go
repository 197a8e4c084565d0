package mns

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Notify content formats of a subscription.
const (
	FormatSimplified = "SIMPLIFIED" // the published body verbatim
	FormatXML        = "XML"        // a <Notification> document (the MNS default)
	FormatJSON       = "JSON"       // a JSON object with the same fields
)

type topic struct {
	name      string
	maxSize   int
	logging   bool
	created   time.Time
	modified  time.Time
	published int
	subs      map[string]*subscription
}

type subscription struct {
	name      string
	topic     string
	endpoint  string
	queue     string
	format    string
	filterTag string
	strategy  string
	created   time.Time
	modified  time.Time
}

func (s *Server) topicURL(name string) string { return s.hostID() + "/topics/" + name }

// queueFromEndpoint accepts any endpoint "acs:mns:...:queues/<name>" (the
// SDK's GenerateQueueEndpoint yields "acs:mns:0:127:queues/<name>" for the
// emulator's endpoint form, so region and account are not checked).
func queueFromEndpoint(ep string) (string, *Error) {
	bad := newErr(http.StatusBadRequest, "EndpointInvalid",
		"The endpoint %q is not supported by the emulator: only queue endpoints acs:mns:<region>:<account>:queues/<name>.", ep)
	if !strings.HasPrefix(ep, "acs:mns:") {
		return "", bad
	}
	i := strings.LastIndex(ep, "queues/")
	if i < 0 {
		return "", bad
	}
	name := ep[i+len("queues/"):]
	if validName("queue", name) != nil {
		return "", bad
	}
	return name, nil
}

func normFormat(f string) (string, *Error) {
	switch strings.ToUpper(strings.TrimSpace(f)) {
	case "":
		return FormatXML, nil
	case FormatSimplified:
		return FormatSimplified, nil
	case FormatXML:
		return FormatXML, nil
	case FormatJSON:
		return FormatJSON, nil
	}
	return "", errInvalidArgument("The value of NotifyContentFormat should be XML, JSON or SIMPLIFIED, not %q.", f)
}

// CreateTopic creates a topic directly (no SDK needed) with the default
// attributes; an existing topic is left as it is.
func (s *Server) CreateTopic(name string) error {
	if e := validName("topic", name); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureTopicLocked(name)
	return nil
}

func (s *Server) ensureTopicLocked(name string) *topic {
	if t, ok := s.topics[name]; ok {
		return t
	}
	now := s.now()
	t := &topic{name: name, maxSize: 65536, created: now, modified: now, subs: map[string]*subscription{}}
	s.topics[name] = t
	return t
}

// Subscribe subscribes queue to topic under the name subscription, with
// format SIMPLIFIED, XML or JSON ("" means XML, the MNS default). The topic is
// created if missing; the queue need not exist yet (messages published while
// it does not exist are dropped). Subscribing again with the same settings is
// a no-op; with different ones it returns SubscriptionAlreadyExist.
func (s *Server) Subscribe(topic, subscription, queue, format string) error {
	if e := validName("topic", topic); e != nil {
		return e
	}
	f, e := normFormat(format)
	if e != nil {
		return e
	}
	ep := fmt.Sprintf("acs:mns:%s:%s:queues/%s", s.region, s.account, queue)
	s.mu.Lock()
	s.ensureTopicLocked(topic)
	s.mu.Unlock()
	_, e = s.subscribe(topic, subscription, reqSubscription{Endpoint: &ep, NotifyContentFormat: &f})
	if e != nil {
		return e
	}
	return nil
}

func (s *Server) subscribe(topicName, name string, rs reqSubscription) (bool, *Error) {
	if e := validName("subscription", name); e != nil {
		return false, e
	}
	if rs.Endpoint == nil {
		return false, newErr(http.StatusBadRequest, "EndpointInvalid", "The Endpoint is required.")
	}
	q, e := queueFromEndpoint(strings.TrimSpace(*rs.Endpoint))
	if e != nil {
		return false, e
	}
	sub := &subscription{name: name, topic: topicName, endpoint: strings.TrimSpace(*rs.Endpoint), queue: q, format: FormatXML, strategy: "BACKOFF_RETRY"}
	if rs.NotifyContentFormat != nil {
		if sub.format, e = normFormat(*rs.NotifyContentFormat); e != nil {
			return false, e
		}
	}
	if rs.NotifyStrategy != nil && *rs.NotifyStrategy != "" {
		if sub.strategy, e = normStrategy(*rs.NotifyStrategy); e != nil {
			return false, e
		}
	}
	if rs.FilterTag != nil {
		if len(*rs.FilterTag) > 16 {
			return false, errInvalidArgument("The length of FilterTag should be at most 16.")
		}
		sub.filterTag = *rs.FilterTag
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[topicName]
	if !ok {
		return false, errTopicNotExist()
	}
	if old, ok := t.subs[name]; ok {
		if old.endpoint == sub.endpoint && old.format == sub.format && old.filterTag == sub.filterTag && old.strategy == sub.strategy {
			return false, nil
		}
		return false, newErr(http.StatusConflict, "SubscriptionAlreadyExist", "The subscription you want to create is already exist with different attributes.")
	}
	now := s.now()
	sub.created, sub.modified = now, now
	t.subs[name] = sub
	return true, nil
}

func normStrategy(v string) (string, *Error) {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "BACKOFF_RETRY":
		return "BACKOFF_RETRY", nil
	case "EXPONENTIAL_DECAY_RETRY":
		return "EXPONENTIAL_DECAY_RETRY", nil
	}
	return "", errInvalidArgument("The value of NotifyStrategy should be BACKOFF_RETRY or EXPONENTIAL_DECAY_RETRY, not %q.", v)
}

// ---- topic handlers ----

func (rt *reqTopic) apply(maxSize int, logging bool) (int, bool, *Error) {
	if e := parseIntField("MaximumMessageSize", rt.MaximumMessageSize, &maxSize); e != nil {
		return 0, false, e
	}
	if e := checkRange("MaximumMessageSize", maxSize, 1024, 65536); e != nil {
		return 0, false, e
	}
	if rt.LoggingEnabled != nil {
		b, err := strconv.ParseBool(strings.TrimSpace(*rt.LoggingEnabled))
		if err != nil {
			return 0, false, errInvalidArgument("The value of LoggingEnabled should be true or false, not %q.", *rt.LoggingEnabled)
		}
		logging = b
	}
	return maxSize, logging, nil
}

func (s *Server) createTopicHTTP(req *request) reply {
	if e := validName("topic", req.name); e != nil {
		return fail(e)
	}
	var rt reqTopic
	if len(req.body) > 0 {
		if e := decodeXML(req.body, "Topic", &rt); e != nil {
			return fail(e)
		}
	}
	maxSize, logging, e := rt.apply(65536, false)
	if e != nil {
		return fail(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.topics[req.name]; ok {
		if t.maxSize == maxSize && t.logging == logging {
			return reply{status: http.StatusNoContent}
		}
		return fail(newErr(http.StatusConflict, "TopicAlreadyExist", "The topic you want to create is already exist with different attributes."))
	}
	t := s.ensureTopicLocked(req.name)
	t.maxSize, t.logging = maxSize, logging
	return reply{status: http.StatusCreated, header: map[string]string{"Location": s.topicURL(req.name)}}
}

func (s *Server) setTopicAttributes(req *request) reply {
	var rt reqTopic
	if e := decodeXML(req.body, "Topic", &rt); e != nil {
		return fail(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[req.name]
	if !ok {
		return fail(errTopicNotExist())
	}
	maxSize, logging, e := rt.apply(t.maxSize, t.logging)
	if e != nil {
		return fail(e)
	}
	t.maxSize, t.logging, t.modified = maxSize, logging, s.now()
	return reply{status: http.StatusNoContent}
}

func (s *Server) topicAttrsLocked(t *topic) xmlTopicAttrs {
	return xmlTopicAttrs{
		TopicName:              t.name,
		CreateTime:             t.created.Unix(),
		LastModifyTime:         t.modified.Unix(),
		MaximumMessageSize:     intp(t.maxSize),
		MessageRetentionPeriod: intp(86400),
		MessageCount:           intp(t.published),
		LoggingEnabled:         boolText(t.logging),
	}
}

func (s *Server) getTopicAttributes(req *request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[req.name]
	if !ok {
		return fail(errTopicNotExist())
	}
	return reply{status: http.StatusOK, body: xmlTopicAttrsDoc{xmlTopicAttrs: s.topicAttrsLocked(t)}}
}

func (s *Server) deleteTopic(req *request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.topics[req.name]; !ok {
		return fail(errTopicNotExist())
	}
	delete(s.topics, req.name)
	return reply{status: http.StatusNoContent}
}

func (s *Server) listTopics(req *request) reply {
	marker, prefix, n, e := listParams(req)
	if e != nil {
		return fail(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.topics))
	for nm := range s.topics {
		names = append(names, nm)
	}
	sel, next := page(names, marker, prefix, n)
	out := xmlTopicList{NextMarker: next}
	for _, nm := range sel {
		var a xmlTopicAttrs
		if req.op == "ListTopicDetail" {
			a = s.topicAttrsLocked(s.topics[nm])
		}
		a.TopicURL = s.topicURL(nm)
		out.Topics = append(out.Topics, a)
	}
	return reply{status: http.StatusOK, body: out}
}

func (s *Server) subscribeHTTP(req *request) reply {
	var rs reqSubscription
	if e := decodeXML(req.body, "Subscription", &rs); e != nil {
		return fail(e)
	}
	created, e := s.subscribe(req.name, req.sub, rs)
	if e != nil {
		return fail(e)
	}
	if !created {
		return reply{status: http.StatusNoContent}
	}
	return reply{status: http.StatusCreated, header: map[string]string{"Location": s.topicURL(req.name) + "/subscriptions/" + req.sub}}
}

func (s *Server) lookupSubLocked(req *request) (*subscription, *Error) {
	t, ok := s.topics[req.name]
	if !ok {
		return nil, errTopicNotExist()
	}
	sub, ok := t.subs[req.sub]
	if !ok {
		return nil, errSubscriptionNotExist()
	}
	return sub, nil
}

func (s *Server) setSubscriptionAttributes(req *request) reply {
	var rs reqSubscription
	if e := decodeXML(req.body, "Subscription", &rs); e != nil {
		return fail(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, e := s.lookupSubLocked(req)
	if e != nil {
		return fail(e)
	}
	if rs.NotifyStrategy != nil && *rs.NotifyStrategy != "" {
		st, e := normStrategy(*rs.NotifyStrategy)
		if e != nil {
			return fail(e)
		}
		sub.strategy = st
	}
	sub.modified = s.now()
	return reply{status: http.StatusNoContent}
}

func (s *Server) subAttrs(sub *subscription) xmlSubscriptionAttrs {
	return xmlSubscriptionAttrs{
		SubscriptionName:    sub.name,
		Subscriber:          s.account,
		TopicOwner:          s.account,
		TopicName:           sub.topic,
		Endpoint:            sub.endpoint,
		NotifyStrategy:      sub.strategy,
		NotifyContentFormat: sub.format,
		FilterTag:           sub.filterTag,
		CreateTime:          sub.created.Unix(),
		LastModifyTime:      sub.modified.Unix(),
	}
}

func (s *Server) getSubscriptionAttributes(req *request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, e := s.lookupSubLocked(req)
	if e != nil {
		return fail(e)
	}
	return reply{status: http.StatusOK, body: xmlSubscriptionAttrsDoc{xmlSubscriptionAttrs: s.subAttrs(sub)}}
}

func (s *Server) unsubscribe(req *request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := s.lookupSubLocked(req); e != nil {
		return fail(e)
	}
	delete(s.topics[req.name].subs, req.sub)
	return reply{status: http.StatusNoContent}
}

func (s *Server) listSubscriptions(req *request) reply {
	marker, prefix, n, e := listParams(req)
	if e != nil {
		return fail(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[req.name]
	if !ok {
		return fail(errTopicNotExist())
	}
	names := make([]string, 0, len(t.subs))
	for nm := range t.subs {
		names = append(names, nm)
	}
	sel, next := page(names, marker, prefix, n)
	out := xmlSubscriptionList{NextMarker: next}
	for _, nm := range sel {
		var a xmlSubscriptionAttrs
		if req.op == "ListSubscriptionDetailByTopic" {
			a = s.subAttrs(t.subs[nm])
		}
		a.SubscriptionURL = s.topicURL(req.name) + "/subscriptions/" + nm
		out.Subscriptions = append(out.Subscriptions, a)
	}
	return reply{status: http.StatusOK, body: out}
}

func (s *Server) publishMessage(req *request) reply {
	var rm reqMessage
	if e := decodeXML(req.body, "Message", &rm); e != nil {
		return fail(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[req.name]
	if !ok {
		return fail(errTopicNotExist())
	}
	if rm.MessageBody == nil || *rm.MessageBody == "" {
		return fail(errInvalidArgument("The MessageBody should not be empty."))
	}
	body := *rm.MessageBody
	if len(body) > t.maxSize {
		return fail(errInvalidArgument("The length of MessageBody (%d bytes) is larger than the topic's MaximumMessageSize (%d).", len(body), t.maxSize))
	}
	tag := ""
	if rm.MessageTag != nil {
		tag = *rm.MessageTag
		if len(tag) > 16 {
			return fail(errInvalidArgument("The length of MessageTag should be at most 16."))
		}
	}
	now := s.now()
	s.seq++
	id := fmt.Sprintf("%016X-1-%011X-%09X", s.idBase, now.UnixMilli(), s.seq)
	md5 := bodyMD5(body)
	t.published++

	names := make([]string, 0, len(t.subs))
	for nm := range t.subs {
		names = append(names, nm)
	}
	sort.Strings(names)
	for _, nm := range names {
		sub := t.subs[nm]
		if sub.filterTag != "" && sub.filterTag != tag {
			continue
		}
		q, ok := s.queues[sub.queue]
		if !ok {
			continue // real MNS retries per NotifyStrategy, then drops
		}
		n := notification{owner: s.account, topic: t.name, sub: sub.name, id: id, body: body, md5: md5, tag: tag, at: now}
		s.enqueueLocked(q, parsedMessage{body: n.render(sub.format), delay: -1, priority: 8},
			"topic/"+t.name+"/subscription/"+sub.name, now)
	}
	return reply{status: http.StatusCreated, body: xmlSendResult{MessageID: id, MessageBodyMD5: md5}}
}

type notification struct {
	owner, topic, sub, id, body, md5, tag string
	at                                    time.Time
}

func (n notification) render(format string) string {
	switch format {
	case FormatSimplified:
		return n.body
	case FormatJSON:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(jsonNotification{
			TopicOwner: n.owner, TopicName: n.topic, Subscriber: n.owner, SubscriptionName: n.sub,
			MessageID: n.id, Message: n.body, MessageMD5: n.md5, MessageTag: n.tag,
			PublishTime: strconv.FormatInt(n.at.UnixMilli(), 10),
		})
		return strings.TrimSuffix(buf.String(), "\n")
	default:
		out, _ := xml.Marshal(xmlNotification{
			TopicOwner: n.owner, TopicName: n.topic, Subscriber: n.owner, SubscriptionName: n.sub,
			MessageID: n.id, Message: n.body, MessageMD5: n.md5, MessageTag: n.tag,
			PublishTime: n.at.UnixMilli(),
		})
		return `<?xml version="1.0" encoding="utf-8"?>` + string(out)
	}
}
