// Command kstatus prints the status that Flux and the cli-utils tools (kpt, `kubectl apply --wait`
// in kustomize's applier) compute for live Kubernetes objects: sigs.k8s.io/cli-utils/pkg/kstatus.
//
//	kubectl get backupvaults -o json | kstatus
//
// It reads one object or a List as JSON on stdin and writes one JSON line per object:
// {"kind", "namespace", "name", "status", "message"}, where status is one of InProgress, Current,
// Failed, Terminating, NotFound or Unknown. The azbackup tests compare it with deploy/argocd/health.lua.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Message   string `json:"message"`
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	data, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	// apimachinery's decoder turns whole numbers into int64, as unstructured objects need them
	// (encoding/json would give float64, which kstatus refuses for observedGeneration).
	var doc map[string]interface{}
	if err := utiljson.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("reading JSON: %w", err)
	}
	items := []interface{}{doc}
	if list, ok := doc["items"].([]interface{}); ok {
		items = list
	}
	enc := json.NewEncoder(out)
	for _, item := range items {
		obj, ok := item.(map[string]interface{})
		if !ok {
			return fmt.Errorf("an item is not an object")
		}
		u := &unstructured.Unstructured{Object: obj}
		res, err := status.Compute(u)
		if err != nil {
			return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
		v := verdict{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
			Status: res.Status.String(), Message: res.Message}
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return nil
}
