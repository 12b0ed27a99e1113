// What can be checked of deploy/ without Docker or Kubernetes: the compose
// stack (deploy/compose/), the manifests (deploy/kubernetes/) and the Grafana
// dashboard (deploy/grafana/pgcdc.json) parse, agree with one another and
// with the Dockerfile, and pgcdc's configurations in them pass
// `pgcdc check --offline`.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cdc/common/table_name.h"
#include "cdc/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/cli/check_offline.h"

namespace cdc::deploy {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSubsetOf;

const std::string kSource = PGCDC_SOURCE_DIR;

std::string ReadSource(const std::string& relative) {
  std::ifstream in(kSource + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

YAML::Node LoadSource(const std::string& relative) {
  return YAML::LoadFile(kSource + "/" + relative);
}

// Every ${VAR} reads as "x"; the variable names are collected.
std::vector<std::string>* referenced_variables = nullptr;
bool FakeEnv(std::string_view name, std::string* value) {
  if (referenced_variables != nullptr) {
    referenced_variables->emplace_back(name);
  }
  *value = "x";
  return true;
}

// pgcdc's configuration as run reads it, and the variables it references.
config::Config ParsePgcdcConfig(const std::string& yaml,
                                std::vector<std::string>* variables) {
  referenced_variables = variables;
  absl::StatusOr<config::Config> config =
      config::ParseConfig(yaml, "deploy", &FakeEnv);
  referenced_variables = nullptr;
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : config::Config{};
}

// The keyword/value pairs of a libpq keyword DSN (no quoting in ours).
std::map<std::string, std::string> DsnFields(const std::string& dsn) {
  std::map<std::string, std::string> fields;
  for (absl::string_view part : absl::StrSplit(dsn, ' ', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, '=');
    fields[kv.first] = kv.second;
  }
  return fields;
}

// "host:port" -> port.
std::string PortOf(const std::string& address) {
  return address.substr(address.rfind(':') + 1);
}

// The port in the Dockerfile's EXPOSE line and the uid of its USER line.
// (Scanned by hand, not with <regex>: GCC 12 warns inside it in the
// sanitizer build, which -Werror fails.)
std::string DockerfileValue(const std::string& instruction) {
  const std::string text = ReadSource("Dockerfile");
  const std::string line = "\n" + instruction + " ";
  for (size_t at = text.find(line); at != std::string::npos;
       at = text.find(line, at + 1)) {
    size_t end = at + line.size();
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    if (end > at + line.size()) {
      return text.substr(at + line.size(), end - at - line.size());
    }
  }
  return "";
}

bool HasItem(const YAML::Node& sequence, const std::string& value) {
  for (const YAML::Node& item : sequence) {
    if (item.as<std::string>() == value) return true;
  }
  return false;
}

// An image reference with a tag that names a version: not missing, not
// "latest".
bool IsPinned(const std::string& image) {
  const size_t slash = image.rfind('/');
  const size_t colon = image.rfind(':');
  if (colon == std::string::npos ||
      (slash != std::string::npos && colon < slash)) {
    return false;
  }
  const std::string tag = image.substr(colon + 1);
  return !tag.empty() && tag != "latest" &&
         tag.find_first_of("0123456789") != std::string::npos;
}

// --- The compose stack
// --------------------------------------------------------

class ComposeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    compose_ = LoadSource("deploy/compose/compose.yaml");
    services_ = compose_["services"];
    ASSERT_TRUE(services_.IsMap());
    pgcdc_yaml_ = ReadSource("deploy/compose/pgcdc.yaml");
    config_ = ParsePgcdcConfig(pgcdc_yaml_, &variables_);
  }
  std::string Env(const std::string& service, const std::string& name) {
    const YAML::Node value = services_[service]["environment"][name];
    return value ? value.as<std::string>() : "";
  }

  YAML::Node compose_;
  YAML::Node services_;
  std::string pgcdc_yaml_;
  config::Config config_;
  std::vector<std::string> variables_;
};

TEST_F(ComposeTest, EveryServiceHasAPinnedImageOrABuild) {
  std::set<std::string> names;
  for (const auto& service : services_) {
    const std::string name = service.first.as<std::string>();
    names.insert(name);
    const YAML::Node build = service.second["build"];
    const YAML::Node image = service.second["image"];
    ASSERT_TRUE(build || image) << name;
    if (build) {
      const std::filesystem::path context = std::filesystem::path(kSource) /
                                            "deploy/compose" /
                                            build["context"].as<std::string>();
      EXPECT_TRUE(std::filesystem::exists(
          context / build["dockerfile"].as<std::string>("Dockerfile")))
          << name;
    }
    if (image) {
      EXPECT_TRUE(IsPinned(image.as<std::string>())) << name;
    }
  }
  EXPECT_THAT((std::set<std::string>{"postgres", "kafka", "pgcdc", "prometheus",
                                     "grafana"}),
              IsSubsetOf(names));
  EXPECT_EQ(services_["pgcdc"]["build"]["context"].as<std::string>(), "../..");
  EXPECT_THAT(services_["postgres"]["image"].as<std::string>(),
              ::testing::StartsWith("postgres:15"));
  EXPECT_EQ(services_["kafka"]["image"].as<std::string>(),
            "apache/kafka:4.1.1");
  EXPECT_TRUE(HasItem(services_["postgres"]["command"], "wal_level=logical"));
  EXPECT_EQ(Env("kafka", "KAFKA_PROCESS_ROLES"), "broker,controller");
}

TEST_F(ComposeTest, MetricsPortIsTheOneScrapedProbedAndPublished) {
  const std::string port = PortOf(config_.metrics.listen);
  EXPECT_EQ(config_.metrics.listen, "0.0.0.0:" + port)
      << "Prometheus and the healthcheck reach pgcdc from outside";
  EXPECT_EQ(port, DockerfileValue("EXPOSE"));
  EXPECT_TRUE(HasItem(services_["pgcdc"]["ports"], port + ":" + port));
  std::string healthcheck;
  for (const YAML::Node& word : services_["pgcdc"]["healthcheck"]["test"]) {
    healthcheck += word.as<std::string>() + " ";
  }
  EXPECT_THAT(healthcheck, HasSubstr("/dev/tcp/127.0.0.1/" + port + " "));
  EXPECT_THAT(healthcheck, HasSubstr("GET /healthz "));

  const YAML::Node prometheus = LoadSource("deploy/compose/prometheus.yml");
  std::vector<std::string> targets;
  for (const YAML::Node& job : prometheus["scrape_configs"]) {
    EXPECT_EQ(job["metrics_path"].as<std::string>("/metrics"), "/metrics");
    for (const YAML::Node& sc : job["static_configs"]) {
      for (const YAML::Node& t : sc["targets"]) {
        targets.push_back(t.as<std::string>());
      }
    }
  }
  EXPECT_THAT(targets, Contains("pgcdc:" + port));
  EXPECT_TRUE(HasItem(services_["prometheus"]["volumes"],
                      "./prometheus.yml:/etc/prometheus/prometheus.yml:ro"));
}

TEST_F(ComposeTest, KafkaAdvertisesWhatPgcdcBootstrapsFrom) {
  // name -> host:port of KAFKA_ADVERTISED_LISTENERS and KAFKA_LISTENERS.
  auto listeners = [](const std::string& list) {
    std::map<std::string, std::string> out;
    for (absl::string_view l : absl::StrSplit(list, ',')) {
      std::pair<std::string, std::string> kv = absl::StrSplit(l, "://");
      out[kv.first] = kv.second;
    }
    return out;
  };
  const auto advertised = listeners(Env("kafka", "KAFKA_ADVERTISED_LISTENERS"));
  const auto bound = listeners(Env("kafka", "KAFKA_LISTENERS"));
  std::string name;
  for (const auto& [listener, address] : advertised) {
    if (address == config_.kafka.bootstrap_servers) name = listener;
  }
  ASSERT_FALSE(name.empty())
      << config_.kafka.bootstrap_servers << " is not an advertised listener";
  EXPECT_EQ(config_.kafka.bootstrap_servers.substr(
                0, config_.kafka.bootstrap_servers.find(':')),
            "kafka");
  ASSERT_EQ(bound.count(name), 1u);
  EXPECT_EQ(PortOf(bound.at(name)), PortOf(config_.kafka.bootstrap_servers));
  // The advertised listener for the host is published on its own port.
  const std::string external = advertised.at("EXTERNAL");
  EXPECT_TRUE(HasItem(services_["kafka"]["ports"],
                      PortOf(external) + ":" + PortOf(bound.at("EXTERNAL"))));
}

TEST_F(ComposeTest, PgcdcConnectsToThePostgresServiceAsTheInitScriptsRole) {
  const std::map<std::string, std::string> dsn = DsnFields(config_.source.dsn);
  EXPECT_EQ(dsn.at("host"), "postgres");
  EXPECT_TRUE(services_["postgres"]);
  // The official image listens on 5432 unless the command says otherwise.
  EXPECT_EQ(dsn.at("port"), "5432");
  for (const YAML::Node& arg : services_["postgres"]["command"]) {
    EXPECT_THAT(arg.as<std::string>(), ::testing::Not(HasSubstr("port=")));
  }
  EXPECT_EQ(dsn.at("dbname"), Env("postgres", "POSTGRES_DB"));

  const std::string init = ReadSource("deploy/compose/init/01-demo.sh");
  EXPECT_TRUE(HasItem(services_["postgres"]["volumes"],
                      "./init:/docker-entrypoint-initdb.d:ro"));
  EXPECT_THAT(init, HasSubstr("CREATE ROLE " + dsn.at("user") +
                              " WITH LOGIN REPLICATION PASSWORD"));
  for (const TableName& table : config_.source.tables) {
    EXPECT_THAT(init, HasSubstr("CREATE TABLE " + table.Qualified() + " ("));
  }
  EXPECT_THAT(init, HasSubstr("CREATE PUBLICATION " +
                              config_.source.publication + " FOR TABLE"));
  // The password: one variable, set for pgcdc and for the init script
  // alike.
  ASSERT_EQ(variables_.size(), 1u);
  const std::string password = variables_[0];
  EXPECT_THAT(pgcdc_yaml_, HasSubstr("password=${" + password + "}"));
  EXPECT_FALSE(Env("pgcdc", password).empty());
  EXPECT_EQ(Env("pgcdc", password), Env("postgres", password));
  EXPECT_THAT(init, HasSubstr("\"$" + password + "\""));
}

TEST_F(ComposeTest, PgcdcStartsAfterHealthyDependenciesWithItsConfig) {
  for (const char* dependency : {"postgres", "kafka"}) {
    EXPECT_EQ(services_["pgcdc"]["depends_on"][dependency]["condition"]
                  .as<std::string>(),
              "service_healthy");
    EXPECT_TRUE(services_[dependency]["healthcheck"]["test"]) << dependency;
  }
  EXPECT_TRUE(HasItem(services_["pgcdc"]["volumes"],
                      "./pgcdc.yaml:/etc/pgcdc/pgcdc.yaml:ro"));
  EXPECT_EQ(config_.source.spill_directory, "/var/lib/pgcdc/spill");
  EXPECT_THAT(ReadSource("Dockerfile"),
              HasSubstr("chown pgcdc:pgcdc /var/lib/pgcdc/spill"));
}

TEST_F(ComposeTest, GrafanaProvisionsTheRepositorysDashboard) {
  const YAML::Node grafana = services_["grafana"];
  std::map<std::string, std::string> mounts;  // container path -> host path
  for (const YAML::Node& v : grafana["volumes"]) {
    std::vector<std::string> parts = absl::StrSplit(v.as<std::string>(), ':');
    ASSERT_GE(parts.size(), 2u);
    mounts[parts[1]] = parts[0];
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(kSource) /
                                        "deploy/compose" / parts[0]))
        << parts[0];
  }
  const YAML::Node providers =
      LoadSource("deploy/compose/grafana/dashboards.yaml")["providers"];
  ASSERT_EQ(providers.size(), 1u);
  const std::string folder = providers[0]["options"]["path"].as<std::string>();
  const std::string dashboard = folder + "/pgcdc.json";
  ASSERT_EQ(mounts.count(dashboard), 1u) << dashboard;
  EXPECT_EQ(std::filesystem::canonical(std::filesystem::path(kSource) /
                                       "deploy/compose" / mounts[dashboard]),
            std::filesystem::canonical(kSource + "/deploy/grafana/pgcdc.json"));
  EXPECT_EQ(mounts.count("/etc/grafana/provisioning/dashboards/pgcdc.yaml"),
            1u);
  EXPECT_EQ(mounts.count("/etc/grafana/provisioning/datasources/pgcdc.yaml"),
            1u);

  const YAML::Node sources =
      LoadSource("deploy/compose/grafana/datasources.yaml")["datasources"];
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0]["type"].as<std::string>(), "prometheus");
  EXPECT_EQ(sources[0]["url"].as<std::string>(), "http://prometheus:9090");
  EXPECT_TRUE(HasItem(services_["prometheus"]["ports"], "9090:9090"));
}

TEST_F(ComposeTest, PgcdcConfigPassesCheckOffline) {
  const cli::CheckResult r =
      cli::CheckOfflineFile(kSource + "/deploy/compose/pgcdc.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("all checks passed"));
}

// --- The Kubernetes manifests
// -------------------------------------------------

class KubernetesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = kSource + "/deploy/kubernetes";
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".yaml") continue;
      const std::string file = entry.path().filename().string();
      for (const YAML::Node& doc : YAML::LoadAllFromFile(entry.path())) {
        if (doc.IsNull()) continue;
        ASSERT_TRUE(doc["kind"] && doc["apiVersion"]) << file;
        documents_.push_back({file, doc});
      }
    }
    ASSERT_FALSE(documents_.empty());
  }
  // The documents of `kind`.
  std::vector<YAML::Node> OfKind(const std::string& kind) const {
    std::vector<YAML::Node> out;
    for (const auto& [file, doc] : documents_) {
      if (doc["kind"].as<std::string>() == kind) out.push_back(doc);
    }
    return out;
  }
  YAML::Node One(const std::string& kind) const {
    std::vector<YAML::Node> all = OfKind(kind);
    EXPECT_EQ(all.size(), 1u) << kind;
    return all.empty() ? YAML::Node() : all[0];
  }
  std::string ConfigMapYaml() const {
    return One("ConfigMap")["data"]["pgcdc.yaml"].as<std::string>("");
  }

  std::vector<std::pair<std::string, YAML::Node>> documents_;
};

TEST_F(KubernetesTest, EveryManifestHasAKnownKindAndApiVersion) {
  const std::map<std::string, std::string> api = {
      {"ConfigMap", "v1"},
      {"Secret", "v1"},
      {"Service", "v1"},
      {"Deployment", "apps/v1"},
      {"ServiceMonitor", "monitoring.coreos.com/v1"},
      {"Kustomization", "kustomize.config.k8s.io/v1beta1"}};
  std::set<std::string> kinds;
  for (const auto& [file, doc] : documents_) {
    const std::string kind = doc["kind"].as<std::string>();
    kinds.insert(kind);
    ASSERT_EQ(api.count(kind), 1u) << file << ": " << kind;
    EXPECT_EQ(doc["apiVersion"].as<std::string>(), api.at(kind)) << file;
    if (kind != "Kustomization") {
      EXPECT_FALSE(doc["metadata"]["name"].as<std::string>("").empty()) << file;
    }
  }
  EXPECT_EQ(kinds.size(), api.size());
  // kustomization.yaml lists files that exist, and every manifest but the
  // optional standby.
  std::set<std::string> listed;
  for (const YAML::Node& r : One("Kustomization")["resources"]) {
    listed.insert(r.as<std::string>());
  }
  std::set<std::string> files;
  for (const auto& [file, doc] : documents_) {
    if (file != "kustomization.yaml" && file != "standby.yaml") {
      files.insert(file);
    }
  }
  EXPECT_EQ(listed, files);
  EXPECT_THAT(ReadSource("deploy/kubernetes/kustomization.yaml"),
              HasSubstr("# - standby.yaml"));
}

TEST_F(KubernetesTest, OneActiveAndAnOptionalStandbyOnTheSameConfig) {
  std::vector<YAML::Node> deployments = OfKind("Deployment");
  ASSERT_EQ(deployments.size(), 2u);
  std::set<std::string> names;
  for (const YAML::Node& d : deployments) {
    names.insert(d["metadata"]["name"].as<std::string>());
    EXPECT_EQ(d["spec"]["replicas"].as<int>(), 1);
    // A rolling update's new pod would wait on the old one's slot.
    EXPECT_EQ(d["spec"]["strategy"]["type"].as<std::string>(), "Recreate");
    const YAML::Node pod = d["spec"]["template"];
    for (const auto& label : d["spec"]["selector"]["matchLabels"]) {
      EXPECT_EQ(pod["metadata"]["labels"][label.first.as<std::string>()]
                    .as<std::string>(""),
                label.second.as<std::string>());
    }
    const YAML::Node volumes = pod["spec"]["volumes"];
    bool config_volume = false;
    for (const YAML::Node& v : volumes) {
      if (v["configMap"]) {
        config_volume = v["configMap"]["name"].as<std::string>() ==
                        One("ConfigMap")["metadata"]["name"].as<std::string>();
      }
    }
    EXPECT_TRUE(config_volume);
  }
  EXPECT_EQ(names, (std::set<std::string>{"pgcdc", "pgcdc-standby"}));
}

TEST_F(KubernetesTest, ProbesAndScrapesUseTheServicesPort) {
  const YAML::Node service = One("Service");
  ASSERT_EQ(service["spec"]["ports"].size(), 1u);
  const YAML::Node port = service["spec"]["ports"][0];
  const std::string name = port["name"].as<std::string>();
  const std::string target = port["targetPort"].as<std::string>();
  const config::Config config = ParsePgcdcConfig(ConfigMapYaml(), nullptr);
  const std::string listen_port = PortOf(config.metrics.listen);
  EXPECT_EQ(config.metrics.listen, "0.0.0.0:" + listen_port);
  EXPECT_EQ(port["port"].as<std::string>(), listen_port);
  // A pod that is not ready (a waiting standby) is still scraped.
  EXPECT_TRUE(service["spec"]["publishNotReadyAddresses"].as<bool>(false));

  for (const YAML::Node& d : OfKind("Deployment")) {
    const YAML::Node pod = d["spec"]["template"];
    for (const auto& label : service["spec"]["selector"]) {
      EXPECT_EQ(pod["metadata"]["labels"][label.first.as<std::string>()]
                    .as<std::string>(""),
                label.second.as<std::string>());
    }
    ASSERT_EQ(pod["spec"]["containers"].size(), 1u);
    const YAML::Node c = pod["spec"]["containers"][0];
    bool named = false;
    for (const YAML::Node& p : c["ports"]) {
      if (p["name"].as<std::string>() == target) {
        named = true;
        EXPECT_EQ(p["containerPort"].as<std::string>(), listen_port);
      }
    }
    EXPECT_TRUE(named) << "no container port named " << target;
    EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"].as<std::string>(),
              "/healthz");
    EXPECT_EQ(c["livenessProbe"]["httpGet"]["port"].as<std::string>(), target);
    EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(),
              "/readyz");
    EXPECT_EQ(c["readinessProbe"]["httpGet"]["port"].as<std::string>(), target);
  }

  const YAML::Node monitor = One("ServiceMonitor");
  ASSERT_EQ(monitor["spec"]["endpoints"].size(), 1u);
  EXPECT_EQ(monitor["spec"]["endpoints"][0]["port"].as<std::string>(), name);
  EXPECT_EQ(monitor["spec"]["endpoints"][0]["path"].as<std::string>(),
            "/metrics");
  for (const auto& label : monitor["spec"]["selector"]["matchLabels"]) {
    EXPECT_EQ(service["metadata"]["labels"][label.first.as<std::string>()]
                  .as<std::string>(""),
              label.second.as<std::string>());
  }
}

TEST_F(KubernetesTest, ConfigMapPassesCheckOfflineAndItsSecretIsReferenced) {
  const std::string yaml = ConfigMapYaml();
  ASSERT_FALSE(yaml.empty());
  const cli::CheckResult r = cli::CheckOfflineText(yaml);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("all checks passed"));

  std::vector<std::string> variables;
  ParsePgcdcConfig(yaml, &variables);
  ASSERT_EQ(variables.size(), 1u);
  const YAML::Node secret = One("Secret");
  for (const YAML::Node& d : OfKind("Deployment")) {
    const YAML::Node c = d["spec"]["template"]["spec"]["containers"][0];
    YAML::Node ref;
    for (const YAML::Node& e : c["env"]) {
      if (e["name"].as<std::string>() == variables[0]) {
        ref = e["valueFrom"]["secretKeyRef"];
      }
    }
    ASSERT_TRUE(ref) << "no env " << variables[0] << " from a Secret";
    EXPECT_EQ(ref["name"].as<std::string>(),
              secret["metadata"]["name"].as<std::string>());
    const std::string key = ref["key"].as<std::string>();
    EXPECT_TRUE(secret["stringData"][key] || secret["data"][key]) << key;
    // The ConfigMap is mounted where the command reads it.
    EXPECT_TRUE(HasItem(c["args"], "/etc/pgcdc/pgcdc.yaml"));
    bool mounted = false;
    for (const YAML::Node& m : c["volumeMounts"]) {
      mounted |= m["mountPath"].as<std::string>() == "/etc/pgcdc";
    }
    EXPECT_TRUE(mounted);
  }
}

TEST_F(KubernetesTest, NonRootReadOnlyWithASpillVolumeAndSizedResources) {
  const config::Config config = ParsePgcdcConfig(ConfigMapYaml(), nullptr);
  for (const YAML::Node& d : OfKind("Deployment")) {
    const YAML::Node pod = d["spec"]["template"]["spec"];
    EXPECT_TRUE(pod["securityContext"]["runAsNonRoot"].as<bool>());
    EXPECT_EQ(pod["securityContext"]["runAsUser"].as<std::string>(),
              DockerfileValue("USER"));
    const YAML::Node c = pod["containers"][0];
    EXPECT_TRUE(c["securityContext"]["readOnlyRootFilesystem"].as<bool>());
    EXPECT_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
    // The one place pgcdc writes is an emptyDir.
    std::string spill_volume;
    for (const YAML::Node& m : c["volumeMounts"]) {
      if (m["mountPath"].as<std::string>() == config.source.spill_directory) {
        spill_volume = m["name"].as<std::string>();
      }
    }
    ASSERT_FALSE(spill_volume.empty()) << config.source.spill_directory;
    bool empty_dir = false;
    for (const YAML::Node& v : pod["volumes"]) {
      if (v["name"].as<std::string>() == spill_volume) {
        empty_dir = static_cast<bool>(v["emptyDir"]);
      }
    }
    EXPECT_TRUE(empty_dir);
    for (const char* kind : {"requests", "limits"}) {
      EXPECT_TRUE(c["resources"][kind]["memory"]) << kind;
      EXPECT_TRUE(c["resources"][kind]["cpu"]) << kind;
    }
  }
  // The sizes say where they come from.
  EXPECT_THAT(ReadSource("deploy/kubernetes/deployment.yaml"),
              HasSubstr("bench/README.md"));
}

// --- The Grafana dashboard
// ----------------------------------------------------

TEST(GrafanaDashboardTest, ParsesAndEveryPanelHasADatasourceAndATitle) {
  // JSON is YAML: yaml-cpp reads it.
  const YAML::Node dashboard = LoadSource("deploy/grafana/pgcdc.json");
  ASSERT_TRUE(dashboard.IsMap());
  EXPECT_GE(dashboard["schemaVersion"].as<int>(), 36);
  EXPECT_FALSE(dashboard["uid"].as<std::string>("").empty());
  bool datasource_variable = false;
  for (const YAML::Node& v : dashboard["templating"]["list"]) {
    if (v["type"].as<std::string>() == "datasource" &&
        v["name"].as<std::string>() == "DS_PROMETHEUS") {
      datasource_variable = v["query"].as<std::string>() == "prometheus";
    }
  }
  EXPECT_TRUE(datasource_variable);
  const YAML::Node panels = dashboard["panels"];
  ASSERT_GT(panels.size(), 0u);
  std::set<int> ids;
  for (const YAML::Node& p : panels) {
    const std::string title = p["title"].as<std::string>("");
    EXPECT_FALSE(title.empty());
    EXPECT_TRUE(ids.insert(p["id"].as<int>()).second) << title;
    EXPECT_EQ(p["datasource"]["uid"].as<std::string>(""), "${DS_PROMETHEUS}")
        << title;
    if (p["type"].as<std::string>() == "row") continue;
    ASSERT_GT(p["targets"].size(), 0u) << title;
    for (const YAML::Node& t : p["targets"]) {
      EXPECT_FALSE(t["expr"].as<std::string>("").empty()) << title;
      EXPECT_EQ(t["datasource"]["uid"].as<std::string>(""), "${DS_PROMETHEUS}")
          << title;
    }
  }
}

TEST(GrafanaDashboardTest, ShowsWhatIssue18Asks) {
  const YAML::Node dashboard = LoadSource("deploy/grafana/pgcdc.json");
  std::string exprs;
  for (const YAML::Node& p : dashboard["panels"]) {
    for (const YAML::Node& t : p["targets"]) {
      exprs += t["expr"].as<std::string>() + "\n";
    }
  }
  for (const char* needed :
       {"sum by (table, op) (rate(pgcdc_events_total", "pgcdc_lag_bytes",
        "pgcdc_behind_source_ms",
        "histogram_quantile(0.99, sum by (le, instance) "
        "(rate(pgcdc_commit_to_ack_seconds_bucket",
        "pgcdc_inflight_bytes", "pgcdc_inflight_events",
        "pgcdc_delivery_errors_total", "pgcdc_producer_retries_total",
        "pgcdc_snapshot_rows_total", "pgcdc_snapshot_tables_remaining",
        "pgcdc_snapshot_running", "pgcdc_connected", "pgcdc_reconnects_total",
        "pgcdc_slot_retained_wal_bytes", "pgcdc_slot_wal_status"}) {
    EXPECT_THAT(exprs, HasSubstr(needed));
  }
}

}  // namespace
}  // namespace cdc::deploy
