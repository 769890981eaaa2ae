package awsjson

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	smithytime "github.com/aws/smithy-go/time"
)

// Time is a timestamp in the JSON protocols' default format: epoch
// seconds with millisecond precision, as a JSON number.
type Time struct{ time.Time }

// MarshalJSON writes t as the SDK does (smithy's FormatEpochSeconds).
func (t Time) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, smithytime.FormatEpochSeconds(t.Time), 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds; null leaves t zero.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	f, err := n.Float64()
	if err != nil {
		return err
	}
	t.Time = smithytime.ParseEpochSeconds(f)
	return nil
}
