package settle

import "github.com/fc-rds-backup/fc-rds-backup/shared/backup"

// Summary is what the timer and queue functions return (their invocation
// result, visible in FC's logs and to a synchronous caller).
type Summary struct {
	Requests int            `json:"requests"`
	Outcomes map[string]int `json:"outcomes"`
	// Continued counts plan runs handed on to a next step (shared/planrun).
	Continued int `json:"continued,omitempty"`
	Messages  int `json:"messages,omitempty"`
	// Tracking counts jobs still running, re-scheduled for another check;
	// Republished counts parked outcomes published again.
	Tracking    int `json:"tracking,omitempty"`
	Republished int `json:"republished,omitempty"`
}

// Merge adds o's counts to s.
func (s *Summary) Merge(o Summary) {
	s.Requests += o.Requests
	s.Continued += o.Continued
	s.Tracking += o.Tracking
	s.Republished += o.Republished
	for k, n := range o.Outcomes {
		if s.Outcomes == nil {
			s.Outcomes = map[string]int{}
		}
		s.Outcomes[k] += n
	}
}

// Add counts o by its status.
func (s *Summary) Add(o backup.Outcome) {
	if s.Outcomes == nil {
		s.Outcomes = map[string]int{}
	}
	s.Outcomes[string(o.Status)]++
}
