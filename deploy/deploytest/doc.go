// Package deploytest checks the deployment files without a container engine:
// docker-compose.yml is loaded with the compose-spec library, the Helm chart
// is rendered with Helm's engine and every manifest is decoded strictly into
// Kubernetes API types, and Hydra's chart values are held to hydra/hydra.yml.
//
// It is its own module, outside go.work, so Helm's and Kubernetes' large
// dependency graphs never touch the services' builds.
package deploytest
