package memberauth

import (
	"context"
	"strings"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

type contextT = context.Context
