#version 450
/* winograd_gemm_tiled.comp: the NP products of the Winograd F(MxM, 3x3) convolution (36 or 64),
 * M[p] = U[p] V[p], as winograd_gemm.comp computes them, but shaped for GPUs: a classic
 * shared-memory tiled GEMM. Same bindings, layouts and push constants as winograd_gemm.comp:
 *   binding 0  V [NP][IC4][T] vec4           transformed input (winograd_in.comp)
 *   binding 1  U [NP][OC4][IC4][4] vec4      transformed weights (bw_ops_pack_winograd_weights);
 *                                            column j of each 4x4 block maps input lane j
 *                                            to the 4 output lanes, as in conv.comp
 *   binding 2  M [NP][OC4][T] vec4           output, for winograd_out.comp
 * Push constants: T, IC4, OC4.
 * Spec constants: 0 local_size_x WX (invocations along tiles), 1 local_size_y WY (along output
 * packs), 2 RM output packs and 3 RN tiles per invocation, 4 BK input packs per stage.
 * A workgroup owns a block of BM = WY * RM output packs x BN = WX * RN tiles of one position.
 * Dispatch: x = ceil(T / BN), y = ceil(OC4 / BM), z = NP (the position). bw-ops.c takes
 * 16 x 16 invocations, RM = 2 (1 below 32 output packs), RN = 4, BK = 4: 256 invocations
 * (more than Vulkan's guaranteed 128; desktop GPUs and current mobile ones allow it) and
 * (BM * 4 + BN) * BK vec4 = 12 KiB (8 KiB at RM = 1) of shared memory, under the
 * guaranteed 16 KiB.
 *
 * Why not winograd_gemm.comp on a GPU: it is tuned for lavapipe, where every load is a
 * per-lane scalar loop and shared memory is the slowest memory (docs/lavapipe-kernels.md), so
 * each lane streams its own 16 x 16 register tile of 256 vec4 straight from the buffers. On a
 * GPU that tile spills, a lane's 16 weight blocks are re-read from global memory by every lane
 * beside it, and a map of few tiles leaves most of the chip idle. Here each stage loads a
 * BM x BK block of U and a BK x BN block of V once per workgroup, with coalesced reads (the
 * invocation index runs along the contiguous dimension), into shared memory; every invocation
 * then reads RM blocks and RN vectors per input pack from there for 4 * RM * RN vec4 FMAs,
 * and keeps only RM * RN vec4 accumulators (8 at most), so a GPU keeps many workgroups
 * resident.
 * Each invocation's tiles are WX apart and its packs WY apart, so that neighbouring
 * invocations read neighbouring vec4s of V (no bank conflicts) and the same U block
 * (a broadcast), and store neighbouring vec4s of M.
 *
 * Edges: T, OC4 and IC4 need not be multiples of BN, BM, BK. Stage loads past an edge write
 * zeros to shared memory (zero in both U and V, so nothing read from outside a buffer, not
 * even a NaN, reaches a sum); every invocation takes part in every barrier() (the loop count
 * comes from a push constant, uniform over the workgroup), and only stores inside the edges.
 * Plain vec4 loads: no shaderInt64 needed (bw-ops.c still takes Winograd only with int64).
 */
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const int RM = 2;
layout(constant_id = 3) const int RN = 4;
layout(constant_id = 4) const int BK = 4;

const int WX = int(gl_WorkGroupSize.x);
const int WY = int(gl_WorkGroupSize.y);
const int NLOC = WX * WY;
const int BM = WY * RM;
const int BN = WX * RN;

layout(std430, binding = 0) readonly buffer VBuf { vec4 v[]; };
layout(std430, binding = 1) readonly buffer UBuf { vec4 u[]; };
layout(std430, binding = 2) writeonly buffer MBuf { vec4 m[]; };

layout(push_constant) uniform Params { int T; int IC4; int OC4; } p;

/* su[(k * BM + o) * 4 + j]: column j of block (output pack o0 + o, input pack k0 + k);
 * sv[k * BN + n]: tile t0 + n of input pack k0 + k. */
shared vec4 su[BK * BM * 4];
shared vec4 sv[BK * BN];

void main()
{
    const int pos = int(gl_WorkGroupID.z);
    const int o0 = int(gl_WorkGroupID.y) * BM;
    const int t0 = int(gl_WorkGroupID.x) * BN;
    const int tx = int(gl_LocalInvocationID.x), ty = int(gl_LocalInvocationID.y);
    const int lid = int(gl_LocalInvocationIndex);
    const int vbase = pos * p.IC4 * p.T;
    const int ubase = pos * p.OC4 * p.IC4;

    vec4 acc[RM][RN];
    [[unroll]] for (int r = 0; r < RM; r++)
    [[unroll]] for (int c = 0; c < RN; c++)
        acc[r][c] = vec4(0.0);

    for (int k0 = 0; k0 < p.IC4; k0 += BK) {
        /* Stage U: element e = (o * BK + k) * 4 + j runs along the buffer's own order (a run
         * of BK * 4 contiguous vec4 per output pack), so neighbouring invocations read
         * neighbouring vec4s. */
        [[unroll]] for (int s = 0; s < (BK * BM * 4 + NLOC - 1) / NLOC; s++) {
            const int e = lid + s * NLOC;
            const int o = e / (BK * 4), k = (e / 4) % BK, j = e % 4;
            const int o4 = o0 + o, i4 = k0 + k;
            if (e < BK * BM * 4)
                su[(k * BM + o) * 4 + j] = o4 < p.OC4 && i4 < p.IC4
                    ? u[((ubase + o4 * p.IC4) + i4) * 4 + j] : vec4(0.0);
        }
        /* Stage V: element e = k * BN + n, contiguous along the tiles. */
        [[unroll]] for (int s = 0; s < (BK * BN + NLOC - 1) / NLOC; s++) {
            const int e = lid + s * NLOC;
            const int k = e / BN, n = e % BN;
            const int i4 = k0 + k, t = t0 + n;
            if (e < BK * BN)
                sv[e] = i4 < p.IC4 && t < p.T ? v[vbase + i4 * p.T + t] : vec4(0.0);
        }
        barrier();

        [[unroll]] for (int k = 0; k < BK; k++) {
            vec4 x[RN];
            [[unroll]] for (int c = 0; c < RN; c++)
                x[c] = sv[k * BN + tx + c * WX];
            [[unroll]] for (int r = 0; r < RM; r++) {
                const int wb = (k * BM + ty + r * WY) * 4;
                const vec4 w0 = su[wb], w1 = su[wb + 1], w2 = su[wb + 2], w3 = su[wb + 3];
                [[unroll]] for (int c = 0; c < RN; c++)
                    acc[r][c] += w0 * x[c].x + w1 * x[c].y + w2 * x[c].z + w3 * x[c].w;
            }
        }
        /* the next stage overwrites su and sv: wait until every invocation has read them */
        barrier();
    }

    [[unroll]] for (int r = 0; r < RM; r++) {
        const int o4 = o0 + ty + r * WY;
        if (o4 >= p.OC4)
            break;
        [[unroll]] for (int c = 0; c < RN; c++) {
            const int t = t0 + tx + c * WX;
            if (t >= p.T)
                break;
            m[(pos * p.OC4 + o4) * p.T + t] = acc[r][c];
        }
    }
}
