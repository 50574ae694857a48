/* bw-color-transfer.h: a painting's colours moved to a photo's before painting (Gatys et al.,
 * "Controlling Perceptual Factors in Neural Style Transfer", colour histogram matching).
 *
 * Every pixel x of the painting becomes A (x - mu_s) + mu_c, with mu and Sigma the mean and
 * 3x3 covariance (divided by the pixel count) of the painting's (s) and the photo's (c) RGB
 * pixels and A = Sigma_c^(1/2) Sigma_s^(-1/2), both symmetric square roots taken from the
 * eigendecomposition; the result is clamped to [0, 1].
 */
#pragma once

#include "image/bw-image.h"

G_BEGIN_DECLS

/* Eigenvalues of Sigma_s below this are raised to it, so that a flat painting (a singular
 * covariance) gives the photo's mean colour rather than infinities. */
#define BW_COLOR_TRANSFER_MIN_EIGENVALUE 1e-10

/* A new image: @painting with the colour statistics of @photo (any sizes). */
BwImage *bw_color_transfer_histogram (BwImage *painting,
                                      BwImage *photo);

G_END_DECLS
