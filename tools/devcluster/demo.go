package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	watchtools "k8s.io/client-go/tools/watch"
)

// The demo subcommands prepare what a quickstart module needs but cannot
// declare with the hodei provider alone (a bound claim), and show where the
// workers landed as the cluster itself reports it.

const staticStorageClass = "devcluster-static"

func clientFrom(kubeconfig string) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// claimCommand makes a PersistentVolume and a claim bound to it, and waits
// until the binder says Bound. Running it again is harmless.
func claimCommand(args []string) error {
	flags := flag.NewFlagSet("devcluster claim", flag.ExitOnError)
	kubeconfig := flags.String("kubeconfig", "", "admin kubeconfig (required)")
	namespace := flags.String("namespace", "default", "namespace of the claim")
	name := flags.String("name", "", "claim name (required)")
	size := flags.String("size", "10Gi", "capacity")
	_ = flags.Parse(args)
	if *kubeconfig == "" || *name == "" {
		flags.Usage()
		os.Exit(2)
	}
	quantity, err := resource.ParseQuantity(*size)
	if err != nil {
		return fmt.Errorf("--size: %w", err)
	}
	client, err := clientFrom(*kubeconfig)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	class := staticStorageClass
	pvName := *namespace + "-" + *name
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: pvName},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: quantity},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany},
			StorageClassName:              class,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/devcluster/" + pvName}},
		},
	}
	if _, err := client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating persistent volume %s: %w", pvName, err)
	}
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: *name, Namespace: *namespace},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: &class,
			VolumeName:       pvName,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: quantity}},
		},
	}
	if _, err := client.CoreV1().PersistentVolumeClaims(*namespace).Create(ctx, claim, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating claim %s/%s: %w", *namespace, *name, err)
	}
	lw := cache.NewListWatchFromClient(client.CoreV1().RESTClient(), "persistentvolumeclaims", *namespace, fields.OneTermEqualSelector("metadata.name", *name))
	_, err = watchtools.UntilWithSync(ctx, lw, &corev1.PersistentVolumeClaim{}, nil,
		func(e watch.Event) (bool, error) {
			c, ok := e.Object.(*corev1.PersistentVolumeClaim)
			return ok && c.Status.Phase == corev1.ClaimBound, nil
		})
	if err != nil {
		return fmt.Errorf("claim %s/%s was not bound: %w", *namespace, *name, err)
	}
	fmt.Printf("claim %s/%s bound to %s\n", *namespace, *name, pvName)
	return nil
}

// workersCommand prints one line per pod of the hodei provider: where the
// scheduler put it, that node's zone, its GPUs, its phase and, for a pod on
// a real node, the first line its process printed (from its log).
func workersCommand(args []string, out io.Writer) error {
	flags := flag.NewFlagSet("devcluster workers", flag.ExitOnError)
	kubeconfig := flags.String("kubeconfig", "", "admin kubeconfig (required)")
	_ = flags.Parse(args)
	if *kubeconfig == "" {
		flags.Usage()
		os.Exit(2)
	}
	client, err := clientFrom(*kubeconfig)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pods, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=hodei"})
	if err != nil {
		return err
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	zones := map[string]string{}
	real := map[string]bool{}
	for _, n := range nodes.Items {
		zones[n.Name] = n.Labels["topology.kubernetes.io/zone"]
		real[n.Name] = n.Labels[realNodeLabel] == "true"
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "WORKER\tNAMESPACE\tNODE\tZONE\tGPU\tCOUNT\tDEVICES\tSTATUS\tLOG")
	for _, p := range pods.Items {
		gpuType, count := podGPU(&p)
		devices, err := claimedDevices(ctx, client, &p)
		if err != nil {
			return err
		}
		if len(devices) > 0 {
			count = strconv.Itoa(len(devices))
		}
		logLine := ""
		if real[p.Spec.NodeName] {
			logLine = firstLogLine(ctx, client, &p)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Namespace, dash(p.Spec.NodeName), dash(zones[p.Spec.NodeName]), dash(gpuType), dash(count), dash(strings.Join(devices, ",")), p.Status.Phase, dash(logLine))
	}
	return w.Flush()
}

// firstLogLine is the first line the pod's worker container printed, or
// why there is none.
func firstLogLine(ctx context.Context, client kubernetes.Interface, p *corev1.Pod) string {
	limit := int64(4096)
	data, err := client.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: "worker", LimitBytes: &limit}).DoRaw(ctx)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return line
}

// claimedDevices are the devices allocated to the pod's resource claims,
// as pool/device (the pool is the node's name for node-local devices).
func claimedDevices(ctx context.Context, client kubernetes.Interface, p *corev1.Pod) ([]string, error) {
	var devices []string
	for _, status := range p.Status.ResourceClaimStatuses {
		if status.ResourceClaimName == nil {
			continue
		}
		claim, err := client.ResourceV1().ResourceClaims(p.Namespace).Get(ctx, *status.ResourceClaimName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if claim.Status.Allocation == nil {
			continue
		}
		for _, result := range claim.Status.Allocation.Devices.Results {
			devices = append(devices, result.Pool+"/"+result.Device)
		}
	}
	return devices, nil
}

// podGPU reads the GPU type from the worker's canonical spec and the count
// from the container's limits.
func podGPU(p *corev1.Pod) (string, string) {
	var canonical struct {
		Spec struct {
			GPU *struct {
				Type string `json:"type"`
			} `json:"gpu"`
		} `json:"spec"`
	}
	_ = json.Unmarshal([]byte(p.Annotations["hodei.io/spec"]), &canonical)
	gpuType := ""
	if canonical.Spec.GPU != nil {
		gpuType = strings.ToLower(canonical.Spec.GPU.Type)
	}
	for _, c := range p.Spec.Containers {
		for name, q := range c.Resources.Limits {
			if strings.HasSuffix(string(name), "/gpu") || strings.HasPrefix(string(name), "gpu.intel.com/") || strings.HasPrefix(string(name), "nvidia.com/mig-") {
				return gpuType, q.String()
			}
		}
	}
	return gpuType, ""
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
