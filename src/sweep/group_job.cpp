#include "sweep/group_job.hpp"

#include "core/projector.hpp"
#include "model/atoms.hpp"
#include "model/ice.hpp"
#include "model/rasterize.hpp"
#include "reconstruct/wbp.hpp"
#include "sweep/group_fft.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>

namespace tomosweep {

namespace {

constexpr int kChunkDepth = 64; // the corpus's chunk depth (io/corpus)

enum Command : int { kProject = 1, kBackRows = 2, kBackStack = 3, kBandlimit = 4, kDone = 5 };

/// What the root asks the group to do, broadcast before each step.
struct Header {
  int command = 0;
  int nu = 0, nv = 0, ranges = 0, views = 0;
  float level = 0;
};

constexpr int kViewDoubles = 7;

/// One group's communicator and this rank's slab.
class Group {
public:
  Group(const boost::mpi::communicator& c, const SlabPlan& plan, const Grid& grid)
      : comm_(c), rank_(c.rank()), plan_(plan), grid_(grid) {}

  bool root() const { return rank_ == 0; }
  const Grid& grid() const { return grid_; }
  int z0() const { return plan_.z0(rank_); }
  int z1() const { return plan_.z1(rank_); }

  /// Broadcast `bytes` from the root in pieces an int can count.
  void bcast(void* data, std::size_t bytes) const {
    char* p = static_cast<char*>(data);
    for (std::size_t done = 0; done < bytes;) {
      const int n = static_cast<int>(std::min<std::size_t>(bytes - done, 1u << 30));
      MPI_Bcast(p + done, n, MPI_BYTE, 0, comm_);
      done += static_cast<std::size_t>(n);
    }
  }

  /// The root: announce a step, its views and z ranges to the others.
  void announce(Header h, const std::vector<TiltView>& views, ZRanges ranges = {}) const {
    bcast(&h, sizeof h);
    std::vector<double> v = flatten(views);
    bcast(v.data(), v.size() * sizeof(double));
    bcast(ranges.data(), ranges.size() * sizeof(ranges[0]));
  }
  /// The others: the next step, its views and z ranges.
  Header receive(std::vector<TiltView>& views, ZRanges& ranges) const {
    Header h;
    bcast(&h, sizeof h);
    std::vector<double> v(static_cast<std::size_t>(h.views) * kViewDoubles);
    bcast(v.data(), v.size() * sizeof(double));
    views.resize(static_cast<std::size_t>(h.views));
    for (std::size_t i = 0; i < views.size(); ++i) {
      const double* d = v.data() + i * kViewDoubles;
      views[i] = TiltView{d[0], d[1], d[2], d[3], d[4], d[5], d[6]};
    }
    ranges.resize(static_cast<std::size_t>(h.ranges));
    bcast(ranges.data(), ranges.size() * sizeof(ranges[0]));
    return h;
  }

  /// Every rank: the projection of each z range along `views`, each image summed slab after slab in z order; the
  /// root returns the stacks (warped), the others nothing. The ranks work on the ranges together: each takes its
  /// parts in the order of how many ranks come before it in a range's chain (those that start a range first), so
  /// that a rank whose slab starts a range does not wait for one that continues another.
  std::vector<Volume<float>> project(const Header& h, const std::vector<TiltView>& views, const ZRanges& ranges,
                                     const Volume<float>& slab) const {
    const std::size_t image = static_cast<std::size_t>(h.nu) * h.nv;
    const int n = h.views;
    // A few views at a time (at most 256 MB a message): while one rank sums its slab into them, the next sums its
    // slab into the views before.
    const int per = static_cast<int>(
        std::clamp<std::size_t>((std::size_t{1} << 26) / std::max<std::size_t>(image, 1), 1, 8));
    const int chunks = (n + per - 1) / per;
    struct Part {
      int depth, range, chunk; // depth: ranks before this one in the range's chain
    };
    std::vector<std::array<int, 2>> chain(ranges.size(), {-1, -1}); // first and last rank of each range
    std::vector<Part> mine;
    for (std::size_t r = 0; r < ranges.size(); ++r) {
      for (int k = 0; k < plan_.ranks; ++k)
        if (std::max(ranges[r][0], plan_.z0(k)) < std::min(ranges[r][1], plan_.z1(k))) {
          if (chain[r][0] < 0) chain[r][0] = k;
          chain[r][1] = k;
        }
      if (chain[r][0] >= 0 && rank_ >= chain[r][0] && rank_ <= chain[r][1])
        for (int c = 0; c < chunks; ++c) mine.push_back({rank_ - chain[r][0], static_cast<int>(r), c});
    }
    std::stable_sort(mine.begin(), mine.end(), [](const Part& a, const Part& b) { return a.depth < b.depth; });
    int tag_ub = 32767, flag = 0;
    int* attr = nullptr;
    MPI_Comm_get_attr(comm_, MPI_TAG_UB, &attr, &flag);
    if (flag && attr) tag_ub = *attr;
    if (static_cast<long long>(ranges.size()) * chunks > tag_ub)
      fail("rank group: ", ranges.size(), " z ranges x ", chunks, " blocks of views exceed MPI's tags (", tag_ub, ")");
    std::vector<Volume<float>> out;
    std::vector<MPI_Request> pending;
    if (root()) {
      for (std::size_t r = 0; r < ranges.size(); ++r) out.emplace_back(h.nu, h.nv, n, grid_.voxel_A);
      for (std::size_t r = 0; r < ranges.size(); ++r)
        if (chain[r][1] > 0)
          for (int c = 0; c < chunks; ++c) {
            const int m = std::min(per, n - c * per);
            pending.emplace_back();
            MPI_Irecv(out[r].slice(c * per), static_cast<int>(image * m), MPI_FLOAT, chain[r][1],
                      static_cast<int>(r) * chunks + c, comm_, &pending.back());
          }
    }
    for (const Part& p : mine) {
      const int m = std::min(per, n - p.chunk * per), tag = p.range * chunks + p.chunk;
      const std::vector<TiltView> part_views(views.begin() + p.chunk * per, views.begin() + p.chunk * per + m);
      Volume<float> part(h.nu, h.nv, m, grid_.voxel_A);
      const int count = static_cast<int>(image * m);
      if (p.depth > 0) MPI_Recv(part.data.data(), count, MPI_FLOAT, rank_ - 1, tag, comm_, MPI_STATUS_IGNORE);
      project_slab_onto(part, slab, z0(), grid_.nz, part_views, ranges[p.range][0], ranges[p.range][1], h.level);
      if (rank_ != chain[p.range][1])
        MPI_Send(part.data.data(), count, MPI_FLOAT, rank_ + 1, tag, comm_);
      else if (!root())
        MPI_Send(part.data.data(), count, MPI_FLOAT, 0, tag, comm_);
      else
        std::copy(part.data.begin(), part.data.end(), out[p.range].slice(p.chunk * per));
    }
    if (!pending.empty()) MPI_Waitall(static_cast<int>(pending.size()), pending.data(), MPI_STATUSES_IGNORE);
    for (Volume<float>& stack : out) warp_views(stack, views);
    return out;
  }

  /// Every rank: its slab of back_project_rows; the root makes the rows (`rows`), a block at a time, for all.
  Volume<float> back_project_rows(const Header& h, const std::vector<TiltView>& views, const ImageRows& rows) const {
    const ImageRows shared = [&](int y0, int y1, float* out) {
      if (root()) rows(y0, y1, out);
      bcast(out, static_cast<std::size_t>(h.views) * (y1 - y0) * h.nu * sizeof(float));
    };
    return back_project_rows_slab(h.nu, shared, views, grid_, z0(), z1());
  }

  /// Every rank: its slab of back_project of the root's `stack` (the others receive it whole).
  Volume<float> back_project_stack(const Header& h, const std::vector<TiltView>& views, const Volume<float>* stack) const {
    Volume<float> copy;
    if (!root()) copy = Volume<float>(h.nu, h.nv, h.views, grid_.voxel_A);
    const Volume<float>& s = root() ? *stack : copy;
    bcast(const_cast<float*>(s.data.data()), s.data.size() * sizeof(float));
    return back_project_slab(s, views, grid_, z0(), z1());
  }

private:
  static std::vector<double> flatten(const std::vector<TiltView>& views) {
    std::vector<double> v;
    for (const TiltView& t : views)
      v.insert(v.end(), {t.tilt_rad, t.azimuth_rad, t.defocus_A, t.shift_u_A, t.shift_v_A, t.rotation_rad,
                         t.magnification});
    return v;
  }

  const boost::mpi::communicator& comm_;
  int rank_;
  SlabPlan plan_;
  Grid grid_;
};

/// The root's projector and back projector: each step announced, then done together.
Projector root_projector(const Group& g, const Volume<float>& slab) {
  return [&g, &slab](const std::vector<TiltView>& views, int nu, int nv, const ZRanges& ranges, float level) {
    const Header h{kProject, nu, nv, static_cast<int>(ranges.size()), static_cast<int>(views.size()), level};
    g.announce(h, views, ranges);
    return g.project(h, views, ranges, slab);
  };
}

BackProjector root_back_projector(const Group& g) {
  BackProjector bp;
  bp.rows = [&g](int nu, const ImageRows& rows, const std::vector<TiltView>& views) {
    const Header h{kBackRows, nu, 0, 0, static_cast<int>(views.size()), 0};
    g.announce(h, views);
    return g.back_project_rows(h, views, rows);
  };
  bp.stack = [&g](const Volume<float>& stack, const std::vector<TiltView>& views) {
    if (back_projects_rows(views) && stack.ny == g.grid().ny) {
      // The same values from rows, without sending the whole stack to every rank.
      const int nu = stack.nx;
      const ImageRows rows = [&](int y0, int y1, float* out) {
        for (int t = 0; t < stack.nz; ++t)
          for (int y = y0; y < y1; ++y)
            std::copy_n(stack.data.data() + stack.index(0, y, t), nu,
                        out + (static_cast<std::size_t>(t) * (y1 - y0) + (y - y0)) * nu);
      };
      const Header h{kBackRows, nu, 0, 0, static_cast<int>(views.size()), 0};
      g.announce(h, views);
      return g.back_project_rows(h, views, rows);
    }
    const Header h{kBackStack, stack.nx, stack.ny, 0, static_cast<int>(views.size()), 0};
    g.announce(h, views);
    return g.back_project_stack(h, views, &stack);
  };
  return bp;
}

/// The other ranks: serve the root's steps until it is done. Their slabs of the back projections, in the root's
/// order (the tomogram, the half tomograms, the WBP prior), and of the bandlimit prior (`bandlimit`) go into `r`.
void serve(const Group& g, const Volume<float>& slab, const JobConfig& config,
           const std::function<Volume<float>()>& bandlimit, JobResult& r) {
  std::vector<Volume<float>> made;
  std::vector<TiltView> views;
  ZRanges ranges;
  for (;;) {
    const Header h = g.receive(views, ranges);
    switch (h.command) {
    case kProject:
      g.project(h, views, ranges, slab);
      break;
    case kBackRows:
      made.push_back(g.back_project_rows(h, views, {}));
      break;
    case kBackStack:
      made.push_back(g.back_project_stack(h, views, nullptr));
      break;
    case kBandlimit:
      r.prior = bandlimit();
      break;
    case kDone: {
      const std::size_t expected = 1 + (config.imaging.half_series ? 2 : 0) +
                                   (config.prior.enabled && config.prior.method == PriorMethod::wbp ? 1 : 0);
      if (made.size() != expected) fail("rank group: ", made.size(), " back projections, expected ", expected);
      std::size_t i = 0;
      r.tomogram = std::move(made[i++]);
      if (config.imaging.half_series) {
        r.tomogram_odd = std::move(made[i++]);
        r.tomogram_even = std::move(made[i++]);
      }
      if (i < made.size()) r.prior = std::move(made[i++]);
      return;
    }
    default:
      fail("rank group: unknown step ", h.command);
    }
  }
}

} // namespace

int SlabPlan::z0(int k) const { return std::min(nz, k * block); }
int SlabPlan::z1(int k) const { return std::min(nz, (k + 1) * block); }

SlabPlan slab_plan(int nz, int ranks) {
  if (nz <= 0 || ranks <= 0) fail("slab plan of ", nz, " slices on ", ranks, " ranks");
  const int chunks = (nz + kChunkDepth - 1) / kChunkDepth;
  return SlabPlan{nz, (chunks + ranks - 1) / ranks * kChunkDepth, ranks};
}

JobResult run_group_job(const boost::mpi::communicator& comm, const JobConfig& config,
                        const StructureSet& structures, const Scene& scene, std::uint64_t job_id, int replicate) {
  const std::string problem = group_job_problem(config);
  if (!problem.empty()) fail("job ", job_id, " needs a group of ", comm.size(), " ranks, and ", problem);
  const auto n = grid_shape(config.model.box_A, config.model.pixel_size_A);
  const Grid grid{n[0], n[1], n[2], config.model.pixel_size_A};
  const SlabPlan plan = slab_plan(grid.nz, comm.size());
  const Group g(comm, plan, grid);

  JobResult r;
  r.job_id = job_id;
  r.replicate = replicate;
  const auto t0 = std::chrono::steady_clock::now();
  Volume<float> texture; // granular ice: its texture filtered over the group's slabs
  if (scene.ice && scene.ice_texture == IceTexture::granular) {
    const IceTextureField f =
        ice_texture_field(grid, ice_potential_V(config.model.potential), scene.seed, scene.replicate);
    texture = spectral_slab(comm, grid, plan.block, f.spectrum, f.filter);
  }
  SpecimenVolumes specimen = rasterize_slab(scene, structures, config.model.pixel_size_A, config.model.potential,
                                            g.z0(), g.z1(), texture.data.empty() ? nullptr : &texture);
  texture = Volume<float>();
  // The medium's potential, as image_job finds it (every rank alike).
  const double ice_V = scene.ice ? ice_potential_V(config.model.potential) : 0.0;
  const auto bandlimit = [&] {
    return bandlimited_prior_slab(comm, specimen.potential, grid.nz, plan.block, ice_V, config.reconstruction);
  };

  if (g.root()) {
    r.timings.push_back({"rasterize", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
    r.classes = scene.classes;
    r.particles = scene.particles;
    // run_job's imaging half, its projections, back projections and prior made by the group.
    PotentialAccess access;
    access.project = root_projector(g, specimen.potential);
    access.back_project = root_back_projector(g);
    access.bandlimited_prior = [&](double) {
      g.announce(Header{kBandlimit}, {});
      return bandlimit();
    };
    image_job(config, scene, grid, specimen.ice_thickness_A, access, job_id, r);
    g.announce(Header{kDone}, {});
  } else {
    serve(g, specimen.potential, config, bandlimit, r);
  }
  r.potential = std::move(specimen.potential);
  r.atlas = std::move(specimen.atlas);
  r.instances = std::move(specimen.instances);
  return r;
}

} // namespace tomosweep
