// A minimal HTTP/1.1 client over POSIX sockets (no new dependency): GET, Connection: close,
// Content-Length or chunked bodies, up to 5 redirects.
#include "io/structures/fetch.hpp"

#include "core/errors.hpp"
#include "io/files/atomic_file.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tomosweep {
namespace {

struct Url {
  std::string host, port = "80", target = "/";
};

Url parse_http_url(const std::string& url) {
  if (url.rfind("https://", 0) == 0)
    fail_io(url, ": no network/TLS support in tomosweep for https (download it manually and use its path)");
  if (url.rfind("http://", 0) != 0) fail_io(url, ": not an http:// url");
  Url u;
  std::string rest = url.substr(7);
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) u.target = rest.substr(slash);
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    u.port = authority.substr(colon + 1);
    authority.resize(colon);
  }
  if (authority.size() > 2 && authority.front() == '[' && authority.back() == ']')
    authority = authority.substr(1, authority.size() - 2);
  u.host = authority;
  if (u.host.empty() || u.port.empty()) fail_io(url, ": malformed url");
  return u;
}

struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

int connect_to(const std::string& url, const Url& u, int timeout_s) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &res);
  if (rc != 0) fail_io(url, ": cannot resolve host ", u.host, " (", ::gai_strerror(rc), "; no network?)");
  std::string why = "no address";
  int fd = -1;
  for (addrinfo* a = res; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int err = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        const int pr = ::poll(&p, 1, timeout_s * 1000);
        socklen_t len = sizeof err;
        if (pr == 0)
          err = ETIMEDOUT;
        else if (pr < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
          err = errno;
      }
    }
    if (err != 0) {
      why = std::strerror(err);
      ::close(fd);
      fd = -1;
      continue;
    }
    ::fcntl(fd, F_SETFL, flags);
    timeval tv{timeout_s, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  ::freeaddrinfo(res);
  if (fd < 0) {
    std::transform(why.begin(), why.end(), why.begin(), [](unsigned char c) { return std::tolower(c); });
    fail_io(url, ": cannot connect to ", u.host, ":", u.port, " (", why, "; no network?)");
  }
  return fd;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string header_value(const std::string& headers, const std::string& name) {
  const std::string h = lower(headers);
  const std::string key = "\r\n" + lower(name) + ":";
  const auto pos = h.find(key);
  if (pos == std::string::npos) return {};
  const auto start = pos + key.size();
  const auto end = headers.find("\r\n", start);
  std::string v = headers.substr(start, end - start);
  v.erase(0, v.find_first_not_of(" \t"));
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
  return v;
}

std::string dechunk(const std::string& url, const std::string& body) {
  std::string out;
  std::size_t pos = 0;
  for (;;) {
    const auto eol = body.find("\r\n", pos);
    if (eol == std::string::npos) fail_io(url, ": truncated chunked response");
    const unsigned long n = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
    pos = eol + 2;
    if (n == 0) return out;
    if (pos + n > body.size()) fail_io(url, ": truncated chunked response");
    out.append(body, pos, n);
    pos += n + 2;
  }
}

// One GET; returns {status, headers, body}.
struct Response {
  int status = 0;
  std::string reason, headers, body;
};

Response get_once(const std::string& url, int timeout_s) {
  const Url u = parse_http_url(url);
  Socket s{connect_to(url, u, timeout_s)};
  const std::string req = "GET " + u.target + " HTTP/1.1\r\nHost: " + u.host + (u.port == "80" ? "" : ":" + u.port) +
                          "\r\nUser-Agent: tomosweep\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  for (std::size_t done = 0; done < req.size();) {
    const ssize_t n = ::send(s.fd, req.data() + done, req.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_io(url, ": cannot send request (", std::strerror(errno), ")");
    done += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) fail_io(url, ": timed out after ", timeout_s, " s");
      fail_io(url, ": connection lost (", std::strerror(errno), ")");
    }
    raw.append(buf, static_cast<std::size_t>(n));
  }
  Response r;
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/", 0) != 0 || head_end == std::string::npos) fail_io(url, ": not an http response");
  const auto line_end = raw.find("\r\n");
  const std::string status_line = raw.substr(0, line_end);
  const auto sp = status_line.find(' ');
  r.status = std::atoi(status_line.c_str() + sp + 1);
  const auto sp2 = status_line.find(' ', sp + 1);
  r.reason = sp2 == std::string::npos ? "" : status_line.substr(sp2 + 1);
  r.headers = raw.substr(line_end, head_end - line_end + 2);
  r.body = raw.substr(head_end + 4);
  if (lower(header_value(r.headers, "Transfer-Encoding")).find("chunked") != std::string::npos) {
    r.body = dechunk(url, r.body);
  } else if (const std::string cl = header_value(r.headers, "Content-Length"); !cl.empty()) {
    const unsigned long long n = std::strtoull(cl.c_str(), nullptr, 10);
    if (r.body.size() < n) fail_io(url, ": truncated response (", r.body.size(), " of ", n, " bytes)");
    r.body.resize(n);
  }
  return r;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

} // namespace

std::string http_get(const std::string& url, int timeout_s) {
  std::string current = url;
  for (int hop = 0; hop <= 5; ++hop) {
    Response r = get_once(current, timeout_s);
    if (r.status == 200) return std::move(r.body);
    if (r.status == 301 || r.status == 302 || r.status == 303 || r.status == 307 || r.status == 308) {
      std::string loc = header_value(r.headers, "Location");
      if (loc.empty()) fail_io(current, ": redirect without location");
      if (loc[0] == '/') {
        const Url u = parse_http_url(current);
        loc = "http://" + u.host + ":" + u.port + loc;
      }
      current = loc;
      continue;
    }
    fail_io(current, ": http ", r.status, r.reason.empty() ? "" : " ", lower(r.reason));
  }
  fail_io(url, ": too many redirects");
}

FetchOptions fetch_options_from_env() {
  FetchOptions o;
  if (const char* u = std::getenv("TOMOSWEEP_PDB_URL"); u && *u) o.url_template = u;
  if (const char* c = std::getenv("TOMOSWEEP_CACHE"); c && *c)
    o.cache_dir = c;
  else if (const char* h = std::getenv("HOME"); h && *h)
    o.cache_dir = std::string(h) + "/.cache/tomosweep";
  else
    o.cache_dir = ".tomosweep-cache";
  return o;
}

bool is_pdb_source(const std::string& source) { return source.rfind("pdb:", 0) == 0; }

std::string fetch_pdb(const std::string& source, const FetchOptions& options) {
  if (!is_pdb_source(source)) fail_io(source, ": not a pdb:ID source");
  const std::string id = upper(source.substr(4));
  const bool classic = id.size() == 4 && std::isdigit(static_cast<unsigned char>(id[0]));
  const bool extended = id.size() == 12 && id.rfind("PDB_", 0) == 0;
  if ((!classic && !extended) ||
      !std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; }))
    fail_io(source, ": not a pdb entry id (expected 4 characters like pdb:1abc)");
  if (options.url_template.find("{id") == std::string::npos)
    fail_io(source, ": pdb url template '", options.url_template, "' has no {id} or {id_lower}");
  const std::string url = replace_all(replace_all(options.url_template, "{id_lower}", lower(id)), "{id}", id);
  // Cache name: the id plus whatever follows it in the url's last path component (".cif.gz", ".pdb", ...).
  std::string suffix = url.substr(url.rfind('/') + 1);
  const auto at = lower(suffix).find(lower(id));
  suffix = at == std::string::npos ? std::string() : suffix.substr(at + id.size());
  suffix.erase(std::remove_if(suffix.begin(), suffix.end(),
                              [](unsigned char c) { return !(std::isalnum(c) || c == '.' || c == '_'); }),
               suffix.end());
  const std::string path = options.cache_dir + "/" + id + suffix;
  struct stat sb {};
  if (::stat(path.c_str(), &sb) == 0 && sb.st_size > 0) return path;
  if (url.rfind("https://", 0) == 0)
    fail_io(source, ": no network/TLS support for https: download ", url, " manually and use its path, or save it as ",
            path, " (or set TOMOSWEEP_PDB_URL to an http:// mirror)");
  std::string body;
  try {
    body = http_get(url, options.timeout_s);
  } catch (const IoError& e) {
    fail_io(source, ": cannot download ", e.what(), ": download it manually and use its path");
  }
  if (body.empty()) fail_io(source, ": ", url, " returned an empty file");
  std::error_code ec;
  std::filesystem::create_directories(options.cache_dir, ec);
  if (ec) fail_io(source, ": cannot create cache folder ", options.cache_dir, ": ", ec.message());
  write_file_atomically(path, body);
  return path;
}

} // namespace tomosweep
