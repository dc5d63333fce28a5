package sdk

import (
	"encoding/json"
	"time"
)

// The details structs holding a time.Duration encode it in JSON as
// "duration_ms", integer milliseconds, like the wire protocol does.

// MarshalJSON encodes d with Duration as "duration_ms".
func (d DeployDetails) MarshalJSON() ([]byte, error) {
	type plain DeployDetails
	return json.Marshal(struct {
		plain
		DurationMS int64 `json:"duration_ms"`
	}{plain(d), d.Duration.Milliseconds()})
}

// UnmarshalJSON decodes d with Duration from "duration_ms".
func (d *DeployDetails) UnmarshalJSON(b []byte) error {
	type plain DeployDetails
	v := struct {
		*plain
		DurationMS int64 `json:"duration_ms"`
	}{plain: (*plain)(d)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	d.Duration = time.Duration(v.DurationMS) * time.Millisecond
	return nil
}

// MarshalJSON encodes d with Duration as "duration_ms".
func (d BackupDetails) MarshalJSON() ([]byte, error) {
	type plain BackupDetails
	return json.Marshal(struct {
		plain
		DurationMS int64 `json:"duration_ms"`
	}{plain(d), d.Duration.Milliseconds()})
}

// UnmarshalJSON decodes d with Duration from "duration_ms".
func (d *BackupDetails) UnmarshalJSON(b []byte) error {
	type plain BackupDetails
	v := struct {
		*plain
		DurationMS int64 `json:"duration_ms"`
	}{plain: (*plain)(d)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	d.Duration = time.Duration(v.DurationMS) * time.Millisecond
	return nil
}

// MarshalJSON encodes d with Duration as "duration_ms".
func (d RestoreDetails) MarshalJSON() ([]byte, error) {
	type plain RestoreDetails
	return json.Marshal(struct {
		plain
		DurationMS int64 `json:"duration_ms"`
	}{plain(d), d.Duration.Milliseconds()})
}

// UnmarshalJSON decodes d with Duration from "duration_ms".
func (d *RestoreDetails) UnmarshalJSON(b []byte) error {
	type plain RestoreDetails
	v := struct {
		*plain
		DurationMS int64 `json:"duration_ms"`
	}{plain: (*plain)(d)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	d.Duration = time.Duration(v.DurationMS) * time.Millisecond
	return nil
}
