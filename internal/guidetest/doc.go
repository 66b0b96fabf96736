// Package guidetest holds end-to-end tests, and nothing else: Prefect's "Run
// flows on Kubernetes" guide on a real single-node cluster
// (scripts/testenv.sh up kubernetes) with Prefect's Kubernetes worker running
// in it, and `prefectctl deployment inspect --job` compared field by field
// with the Job the Kubernetes worker and the container the Docker worker
// really created. The tests run the prefectctl binary, as a user does.
package guidetest
