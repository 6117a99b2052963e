"""Lab 10: typical wrong answers (see `student_answers/__init__.py`)."""

WRONG = {
    "def reparameterize(": (
        "def reparameterize(z_mean, z_log_var, epsilon):\n"
        "    return z_mean + tf.exp(z_log_var) * epsilon   # the variance, not the standard deviation\n"
    ),
    "def reconstruction_loss(": (
        "def reconstruction_loss(x, logits):\n"
        "    # averages over the pixels instead of summing\n"
        "    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=-1)\n"
    ),
    "def kl_divergence(": (
        "def kl_divergence(z_mean, z_log_var):\n"
        "    # forgets the 1/2 and the sum's -1\n"
        "    return tf.reduce_sum(tf.exp(z_log_var) + tf.square(z_mean) - z_log_var, axis=-1)\n"
    ),
    "def train_step(": (
        "def train_step(x, epsilon, encoder, decoder, optimizer):\n"
        "    with tf.GradientTape() as tape:\n"
        "        z_mean, z_log_var = encoder(x, training=True)\n"
        "        z = reparameterize(z_mean, z_log_var, epsilon)\n"
        "        logits = decoder(z, training=True)\n"
        "        reconstruction = reconstruction_loss(x, logits)\n"
        "        kl = kl_divergence(z_mean, z_log_var)\n"
        "        loss = tf.reduce_mean(reconstruction)   # forgot the KL term\n"
        "    variables = encoder.trainable_variables + decoder.trainable_variables\n"
        "    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))\n"
        "    return loss, tf.reduce_mean(reconstruction), tf.reduce_mean(kl)\n"
    ),
}
